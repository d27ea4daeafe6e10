using Attribution.Core.Sockets;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// The local addresses of the TCP sockets that changed state since the snapshot thread last took them: written by the
/// event thread for every inet_sock_set_state sample, taken by <see cref="KernelEventSource.TryTakeChanges"/>. Past
/// <see cref="MaxAddresses"/> distinct addresses it only says "some unknown": every namespace is then read afresh.
/// </summary>
internal sealed class TcpChangeLog
{
    public const int MaxAddresses = 4096;

    private readonly object _lock = new();
    private readonly HashSet<IpAddr> _addresses = CacheCensus.Tracked("TcpChangeLog.addresses", new HashSet<IpAddr>());
    private bool _unknown;

    /// <summary>A state change of a socket with this local address (null: the sample did not say).</summary>
    public void Note(IpAddr? local)
    {
        lock (_lock)
        {
            if (local is not { } address || _addresses.Count >= MaxAddresses) _unknown = true;
            else _addresses.Add(address);
        }
    }

    /// <summary>Moves what was noted into <paramref name="into"/>; true if some change's address is unknown.</summary>
    public bool TakeInto(HashSet<IpAddr> into)
    {
        lock (_lock)
        {
            into.UnionWith(_addresses);
            _addresses.Clear();
            bool unknown = _unknown;
            _unknown = false;
            return unknown;
        }
    }
}
