using Attribution.Core.Sidecar;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Takes one snapshot and appends it to the sidecar: new process identities, socket tables whose content
/// changed, then the snapshot record that ties them together (a keyframe every <see cref="KeyframeEvery"/>
/// whole snapshots, deltas between). A snapshot triggered by new flows reads only their namespaces when it can tell
/// which those are (<see cref="TriggerScope"/>). Single-threaded: the scheduler owns it.
/// Its parts: <see cref="WholeSnapshot"/> and <see cref="PartialSnapshot"/> take the two kinds, sharing a
/// <see cref="SnapshotState"/>; <see cref="WholeSnapshotRepeat"/> begins a ring buffer's new file.
/// </summary>
internal sealed class SnapshotTaker : IDisposable
{
    public const int KeyframeEvery = 30;

    private readonly SnapshotState _state;
    private readonly ProcessScanner _scanner;
    private readonly SockDiagClients _diag;
    private readonly WholeSnapshot _whole;
    private readonly PartialSnapshot _partial;
    private readonly WholeSnapshotRepeat _repeat;

    public SnapshotTaker(string procRoot, SidecarWriter writer, ulong ownNetns, bool useSockDiag, ProcessIdentities? identities = null,
        ITcpStateWitness? tcpWitness = null)
    {
        var addresses = new NamespaceAddresses();
        var tcpCarry = tcpWitness is null ? null : new TcpTableCarry(tcpWitness, addresses);
        var scope = new TriggerScope(ownNetns);
        _state = new SnapshotState(writer);
        _scanner = new ProcessScanner(procRoot);
        _diag = new SockDiagClients(procRoot, ownNetns, useSockDiag);
        var tables = new SocketTableDedup();
        var reader = new NamespaceTableReader(procRoot, _diag, tables, addresses, tcpCarry, tcpWitness);
        var holders = new SocketHolderIdentities(_scanner, writer, identities ?? new ProcessIdentities(writer), new Names.NameReader(procRoot));
        _whole = new WholeSnapshot(_state, _scanner, reader, holders, scope);
        _partial = new PartialSnapshot(_state, _scanner, reader, new FlowSocketLookup(_diag, tables, scope, addresses), holders, scope, addresses);
        _repeat = new WholeSnapshotRepeat(_state, holders, tables);
    }

    public bool UsingSockDiag => _diag.OwnOpen;

    /// <summary>The id the next snapshot gets in the current file.</summary>
    public uint NextId => _state.NextId;

    /// <summary>
    /// Called in a whole snapshot after each namespace whose tables it read, and after each process its scan read: the
    /// scheduler may take a partial snapshot there (<see cref="SnapshotScheduler"/>), which is written first.
    /// </summary>
    public Action? InsideWholeSnapshot
    {
        get => _whole.Inside;
        set => _whole.Inside = value;
    }

    /// <summary>
    /// True when a snapshot triggered by these flows would be partial: it is a delta, so it needs a snapshot before it,
    /// and the flows' addresses must name their namespaces (<see cref="TriggerScope"/>).
    /// </summary>
    public bool CanTakePartial(IReadOnlyCollection<FlowEnds> flows) => _partial.CanTake(flows);

    /// <summary>
    /// Takes a snapshot. One triggered by new flows whose addresses are given reads only those flows' namespaces if
    /// it can tell which they are; otherwise, and for every other reason, every namespace.
    /// </summary>
    public SnapshotRecord Take(SnapshotReason reason, long triggerPacketNanoseconds, IReadOnlyCollection<FlowEnds>? flows = null)
    {
        if (reason == SnapshotReason.Trigger && flows is not null && _partial.TryTake(triggerPacketNanoseconds, flows, out var partial))
            return partial;
        var whole = _whole.Take(reason, triggerPacketNanoseconds);
        _repeat.Keep(whole);
        return whole;
    }

    /// <summary>
    /// Writes the last whole snapshot again, with every identity and table it refers to, as a keyframe of
    /// <paramref name="reason"/> numbered <paramref name="id"/>, into <paramref name="into"/> (<see cref="WholeSnapshotRepeat"/>).
    /// </summary>
    public void Repeat(SidecarWriter into, SnapshotReason reason, uint id) => _repeat.WriteAgain(into, reason, id);

    public void Dispose()
    {
        _scanner.Dispose();
        _diag.Dispose();
    }
}
