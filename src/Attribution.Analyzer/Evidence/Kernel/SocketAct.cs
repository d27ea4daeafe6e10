namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>
/// A process acting on a socket in its own context at a moment: moving its data (a sampled send or receive) or
/// changing its state (connect, listen, shutdown, close). A socket's acts in time order say who held it when.
/// </summary>
internal readonly record struct SocketAct(long Ns, int Process, bool MovedData);

internal static class SocketActs
{
    /// <summary>The index of the last of <paramref name="acts"/> (in time order) at or before <paramref name="ns"/>; -1 if none.</summary>
    public static int LastAt(SocketAct[] acts, long ns)
    {
        int lo = 0, hi = acts.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (acts[mid].Ns <= ns) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }
}
