namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>
/// A socket as the kernel's events showed it: its tuple and trusted window, and the processes that acted on
/// it in their own context (as holders of <see cref="Sighting"/>). <see cref="UnknownActor"/> says an event
/// named a pid whose identity the evidence cannot establish: then no owner can be asserted from events.
/// <see cref="Controllers"/> are the processes that only connected, listened, shut down or closed it (when others
/// moved its data): the owner while none of those is alive, as when a parent connects, forks a child that writes,
/// and closes after the child's exit.
/// </summary>
internal sealed record KernelSighting(SocketSighting Sighting, bool UnknownActor, IReadOnlyList<int> Controllers)
{
    /// <summary>Exactly one known process acted on the socket and no unknown one did.</summary>
    public bool SoleOwner => !UnknownActor && Sighting.HolderIds.Count == 1;
}
