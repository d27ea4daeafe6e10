using Attribution.Core.Linux;
using Attribution.Recorder.Native;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// sock_diag clients for the network namespaces the recorder is not in. A netlink socket belongs to the
/// namespace it was created in, so the calling thread briefly joins the target namespace (setns, which
/// needs CAP_SYS_ADMIN and affects only this thread), opens the socket and returns. A client pins its
/// namespace alive, so clients of namespaces that no longer appear in a scan are closed at once.
/// Where setns is refused the caller falls back to /proc/PID/net text.
/// </summary>
internal sealed class NamespaceSockDiag(string procRoot) : IDisposable
{
    private readonly Dictionary<ulong, SockDiagClient> _clients = CacheCensus.Tracked("NamespaceSockDiag.clients", new Dictionary<ulong, SockDiagClient>());
    private readonly HashSet<ulong> _refused = CacheCensus.Tracked("NamespaceSockDiag.refused", new HashSet<ulong>());
    private readonly int _ownNamespace = LibC.Open($"{procRoot}/thread-self/{ProcPaths.NetNamespace}", LibC.ORdonly | LibC.OCloexec);

    public SockDiagClient? ClientFor(ulong netns, IReadOnlyList<int> pidsInside)
    {
        if (_clients.TryGetValue(netns, out var client)) return client;
        if (_ownNamespace < 0 || _refused.Contains(netns)) return null;
        foreach (int pid in pidsInside)
        {
            int target = LibC.Open(ProcPaths.Process(procRoot, pid, ProcPaths.NetNamespace), LibC.ORdonly | LibC.OCloexec);
            if (target < 0) continue; // that process exited; try the next one in the namespace
            try
            {
                if (LibC.setns(target, LibC.CloneNewNet) != 0) break;
                client = SockDiagClient.TryOpen();
                if (LibC.setns(_ownNamespace, LibC.CloneNewNet) != 0)
                    throw new InvalidOperationException("could not return to the recorder's own network namespace");
                if (client is null) break;
                _clients[netns] = client;
                return client;
            }
            finally
            {
                LibC.close(target);
            }
        }
        _refused.Add(netns);
        return null;
    }

    /// <summary>Closes the clients of namespaces not in <paramref name="alive"/>, so a dead namespace can be freed.</summary>
    public void Prune(IReadOnlyDictionary<ulong, List<int>> alive)
    {
        foreach (var netns in _clients.Keys.Where(n => !alive.ContainsKey(n)).ToList())
        {
            _clients[netns].Dispose();
            _clients.Remove(netns);
        }
        _refused.RemoveWhere(n => !alive.ContainsKey(n));
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values) client.Dispose();
        _clients.Clear();
        if (_ownNamespace >= 0) LibC.close(_ownNamespace);
    }
}
