using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>
/// UDP has no state tracepoint. What names the owner of a short-lived UDP socket is the route lookup its
/// connect() or sendto() makes in the caller's own context, with the full tuple (fib:fib_table_lookup,
/// fib6:fib6_table_lookup): "process P sent from this local address and port to that remote one, at t". Such a
/// sighting is trusted from the lookup until its process exits, or until another process routes the same tuple.
/// A lookup made before the source address was chosen (0.0.0.0 / ::) is kept under the wildcard. Where events were
/// lost, each lookup is kept as an act (LossRule reads the stretch since the last one before a packet).
/// </summary>
internal sealed class UdpRoutes(ProcessResolver processes, Action<ConnKey, KernelSighting> emit)
{
    private readonly Dictionary<ConnKey, (int Process, long From, AddressFamilyKind Family, List<SocketAct>? Acts)> _open = new();

    public void Add(in SocketEvent e)
    {
        if (e.Kind != SocketEventKind.Route || e.Protocol != IpProtocol.Udp || !e.ProcessContext || e.LocalPort == 0 || e.RemotePort == 0) return;
        var key = new ConnKey(IpProtocol.Udp, e.Local.IsUnspecified ? Wildcards.Of(e.Family) : e.Local, e.LocalPort, e.Remote, e.RemotePort);
        int process = processes.Resolve(e.Pid, e.Ns);
        if (_open.TryGetValue(key, out var open))
        {
            if (open.Process == process)
            {
                if (process > 0) open.Acts?.Add(new SocketAct(e.Ns, process, MovedData: true));
                return;
            }
            Emit(key, open, Math.Min(e.Ns, processes.ExitOf(open.Process)));
        }
        _open[key] = (process, e.Ns, e.Family, processes.KeepTimelines && process > 0 ? [new SocketAct(e.Ns, process, MovedData: true)] : null);
    }

    public void Finish()
    {
        foreach (var (key, open) in _open) Emit(key, open, processes.ExitOf(open.Process));
        _open.Clear();
    }

    private void Emit(ConnKey key, (int Process, long From, AddressFamilyKind Family, List<SocketAct>? Acts) open, long until)
    {
        var actors = new ActorSet();
        actors.Add(open.Process);
        var sighting = processes.Sighting(actors, open.Acts ?? [], open.Family, open.From, until);
        if (sighting is not null) emit(key, sighting);
    }
}
