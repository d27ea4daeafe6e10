namespace Attribution.Recorder.Snapshots;

/// <summary>
/// The snapshots' sock_diag clients: the recorder's own namespace's, opened at start, and the other namespaces', each
/// opened by joining its namespace for a moment (<see cref="NamespaceSockDiag"/>). None when sock_diag is off; a
/// namespace without one is read through /proc/PID/net instead.
/// </summary>
internal sealed class SockDiagClients(string procRoot, ulong ownNetns, bool useSockDiag) : IDisposable
{
    private readonly SockDiagClient? _own = useSockDiag ? SockDiagClient.TryOpen() : null;
    private readonly NamespaceSockDiag? _foreign = useSockDiag ? new NamespaceSockDiag(procRoot) : null;

    /// <summary>True when the recorder's own namespace is read through sock_diag.</summary>
    public bool OwnOpen => _own is not null;

    /// <summary>The client of <paramref name="netns"/>, whose processes are <paramref name="pids"/>; null when it has none.</summary>
    public SockDiagClient? For(ulong netns, List<int> pids) => netns == ownNetns ? _own : _foreign?.ClientFor(netns, pids);

    /// <summary>The process whose namespace a sock_diag client reads: the recorder in its own namespace, else the first one inside.</summary>
    public int ReadThrough(ulong netns, List<int> pids) => netns == ownNetns ? Environment.ProcessId : pids[0];

    /// <summary>Closes the clients of namespaces no process is in any more, so the kernel can free them.</summary>
    public void Prune(Dictionary<ulong, List<int>> alive) => _foreign?.Prune(alive);

    public void Dispose()
    {
        _own?.Dispose();
        _foreign?.Dispose();
    }
}
