namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>
/// A socket as the kernel's events showed it: its tuple and trusted window, and the processes that acted on
/// it in their own context (as holders of <see cref="Sighting"/>: those that moved its data, else those that
/// changed its state). <see cref="UnknownActor"/> says an event named a pid whose identity the evidence cannot
/// establish: then no owner can be asserted from events. <see cref="Acts"/>, where more than one process acted
/// (a socket shared across fork), is every act in time order.
/// </summary>
internal sealed record KernelSighting(SocketSighting Sighting, bool UnknownActor, SocketAct[]? Acts)
{
    /// <summary>Exactly one known process acted on the socket and no unknown one did.</summary>
    public bool SoleOwner => !UnknownActor && Sighting.HolderIds.Count == 1;

    /// <summary>Where several processes moved its data and every call was counted from its birth (record 17): who moved which bytes.</summary>
    public StreamRuns? Streams { get; init; }

    /// <summary>Every act in time order, one process's too, where the recording lost events (null otherwise): LossRule reads the stretch around a packet.</summary>
    public SocketAct[]? Timeline { get; init; }
}
