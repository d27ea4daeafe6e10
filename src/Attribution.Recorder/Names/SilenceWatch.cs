using Attribution.Recorder.Diagnostics;
namespace Attribution.Recorder.Names;

/// <summary>
/// Tells which socket call of a process ends a silence: its first after at least <see cref="SilenceNs"/> without any.
/// A title (argv rewritten) changes without a system call the kernel could report, and a server or client retitles
/// itself between two exchanges, while it is quiet; reading its name again when it talks after a silence finds the
/// change before the packets it then sends, at most one read per silence. Fed every socket call the kernel events
/// show in the process's own context; allocation-free.
/// </summary>
internal sealed class SilenceWatch
{
    /// <summary>
    /// Twice TCP's longest delayed acknowledgement (200 ms), so the middle of a silence, where a change found after it
    /// is placed, lies past the acknowledgements the kernel still sends for the exchange before it.
    /// </summary>
    public const long SilenceNs = 400_000_000;
    private const int MaxRemembered = 65536;

    private readonly Dictionary<int, long> _lastCall = CacheCensus.Tracked("SilenceWatch.lastCall", new Dictionary<int, long>());

    /// <summary>
    /// True when this call ends a silence, with <paramref name="silentSince"/> the process's call before it. A process
    /// not met before is only noted: its name was read with its identity, at its first network event.
    /// </summary>
    public bool EndsSilence(int tgid, long ns, out long silentSince)
    {
        // Bounded: a process forgotten is only met afresh, one read of its name fewer.
        if (_lastCall.Count >= MaxRemembered) _lastCall.Clear();
        ref long last = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_lastCall, tgid, out bool known);
        silentSince = last;
        // The rings are drained one CPU after another, so a call may come after a later one: it ends no silence.
        if (known && ns <= last) return false;
        last = ns;
        return known && ns - silentSince >= SilenceNs;
    }

    public void Forget(int tgid) => _lastCall.Remove(tgid);
}
