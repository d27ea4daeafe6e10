using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>
/// Builds TCP sockets' lives from sock:inet_sock_set_state and the send/receive tracepoints. The states of one
/// socket are tied together by its kernel address, which the kernel reuses after the socket is freed, so events
/// are linked in time order only: a life ends at CLOSE, and the address's next event begins a new one. A birth
/// (CLOSE -> SYN_SENT or LISTEN, LISTEN -> SYN_RECV) on an address whose life saw no CLOSE also ends that life:
/// the kernel reuses an address only after freeing its socket, so the CLOSE happened and was not recorded
/// (seen on a 6.18 kernel: a client's FIN_WAIT2 -> CLOSE missing, the address reused 3 s later by another
/// process; without this the two connections were one life with two owners, and both went unattributed).
/// The owner is the process that acted on the socket in its own context: moving data (send/receive) first,
/// because a forked socket is closed by whichever holder closes last; connect/close/shutdown where no data
/// event names anyone. Softirq and hardirq events name a stranger and are used only for the tuple and times.
/// A socket whose life ends at a CLOSE from FIN_WAIT1, FIN_WAIT2 or CLOSING was closed by its owner first and lives on
/// as a timewait socket (tcp_time_wait, then tcp_done): <paramref name="timeWait"/>, where given, hears its tuple.
/// </summary>
internal sealed class TcpLives(ProcessResolver processes, Action<ConnKey, KernelSighting> emit, Action<ConnKey>? timeWait = null)
{
    private sealed class Life
    {
        public long From = long.MinValue, Until = long.MaxValue;
        public bool HasTuple;
        public ConnKey Key;
        public AddressFamilyKind Family;
        public readonly ActorSet Data = new(), Control = new();
        /// <summary>Every act of a known process, in time order: kept for the sighting only when more than one process acted.</summary>
        public readonly List<SocketAct> Acts = new(2);
        /// <summary>Its data moves with their stream ends, while every one has one (record 17); null once one lacks it.</summary>
        public List<(long End, long Bytes, bool Sent, int Process)>? Moves = [];
    }

    private readonly Dictionary<ulong, Life> _open = new();

    public void Add(in SocketEvent e)
    {
        if (e.Protocol != IpProtocol.Tcp) return;
        if (e.Kind == SocketEventKind.Data)
        {
            if (!e.ProcessContext) return;
            if (!_open.TryGetValue(e.Sock, out var life)) _open[e.Sock] = life = new Life(); // older than the recording
            int mover = processes.Resolve(e.Pid, e.Ns);
            life.Data.Add(mover);
            if (mover > 0) life.Acts.Add(new SocketAct(e.Ns, mover, MovedData: true));
            if (mover > 0 && e.StreamEnd >= 0) life.Moves?.Add((e.StreamEnd, e.Bytes, e.Sent, mover));
            else life.Moves = null;
            return;
        }
        if (e.Kind != SocketEventKind.StateChange) return;

        bool birth = TcpSocketBirth.IsBirth(e.OldState, e.NewState);
        if (birth && _open.TryGetValue(e.Sock, out var unclosed))
        {
            unclosed.Until = e.Ns;
            Emit(unclosed);
            _open.Remove(e.Sock);
        }
        if (!_open.TryGetValue(e.Sock, out var current))
        {
            current = new Life();
            // Born now (connect, listen, or a child made by the handshake); any other first transition means
            // the socket existed before the events began.
            if (birth) current.From = e.Ns;
            _open[e.Sock] = current;
        }
        // At CLOSE -> SYN_SENT the local port is not chosen yet (it is 0); a later transition carries it.
        if (e.LocalPort != 0 && e.RemotePort != 0)
        {
            current.Key = new ConnKey(IpProtocol.Tcp, e.Local, e.LocalPort, e.Remote, e.RemotePort);
            current.Family = e.Family;
            current.HasTuple = true;
        }
        if (e.ProcessContext)
        {
            int actor = processes.Resolve(e.Pid, e.Ns);
            current.Control.Add(actor);
            if (actor > 0) current.Acts.Add(new SocketAct(e.Ns, actor, MovedData: false));
        }
        if (e.NewState == (byte)TcpState.Close)
        {
            if (timeWait is not null && current.HasTuple && e.OldState is (byte)TcpState.FinWait1 or (byte)TcpState.FinWait2 or (byte)TcpState.Closing)
                timeWait(current.Key);
            current.Until = e.Ns;
            Emit(current);
            _open.Remove(e.Sock);
        }
    }

    /// <summary>Sockets still open when the events end: trusted to the end of the recording.</summary>
    public void Finish()
    {
        foreach (var life in _open.Values) Emit(life);
        _open.Clear();
    }

    private void Emit(Life life)
    {
        var actors = life.Data.IsEmpty ? life.Control : life.Data;
        if (!life.HasTuple || actors.IsEmpty) return;
        var sighting = processes.Sighting(actors, life.Acts, life.Family, life.From, life.Until);
        if (sighting is null) return;
        // Only a socket born while the events ran has streams counted from their start; only several movers need them.
        if (sighting.Acts is not null && life.From != long.MinValue && life.Moves is { Count: > 0 } moves)
            sighting = sighting with { Streams = StreamRuns.Build(moves) };
        emit(life.Key, sighting);
    }
}
