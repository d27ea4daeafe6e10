using System.Globalization;
using System.Runtime.CompilerServices;
using Attribution.Recorder.Native;

namespace Attribution.Recorder;

/// <summary>The capabilities each thread of this process holds, as /proc/self/task/TID/status says (capabilities are per thread).</summary>
internal static class ThreadCapabilities
{
    /// <summary>
    /// Has the runtime's finalizer thread, started with the process before the drop, give up every capability itself
    /// (it needs none: it closes handles): capset acts on its caller only, and a finalizer is the code a program can have
    /// that thread run. Without a change of uid nothing else would reach it. Waits for it, at most a few seconds.
    /// </summary>
    public static void DropOnFinalizerThread()
    {
        var done = new ManualResetEventSlim();
        Abandon(done);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        done.Wait(TimeSpan.FromSeconds(5));
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // no reference left on this frame: the collection finds it unreachable
    private static void Abandon(ManualResetEventSlim done) => _ = new FinalizerDrop(done);

    private sealed class FinalizerDrop(ManualResetEventSlim done)
    {
        ~FinalizerDrop()
        {
            CapabilitySet.SetThisThread(default, default); // a refusal leaves it as it was, which HoldingMoreThan then reports
            LibC.prctl(LibC.PrSetNoNewPrivs, 1, 0, 0, 0);
            done.Set();
        }
    }

    /// <summary>
    /// The threads that hold more than <paramref name="keep"/> (permitted), said plainly, or null: without a change of uid
    /// nothing reaches a thread the runtime started with the process but could not be asked (<see cref="DropOnFinalizerThread"/>);
    /// it keeps the capabilities the process started with, though it runs no recorder code.
    /// </summary>
    public static string? HoldingMoreThan(CapabilitySet keep)
    {
        var names = new List<string>();
        ulong extra = 0;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string[] lines;
            try { lines = File.ReadAllLines(Path.Combine(task, "status")); }
            catch (IOException) { continue; } // the thread ended meanwhile
            var permitted = lines.FirstOrDefault(l => l.StartsWith("CapPrm:", StringComparison.Ordinal));
            if (permitted is null || !ulong.TryParse(permitted.AsSpan(7).Trim(), NumberStyles.HexNumber, null, out var held)) continue;
            if ((held & ~keep.Bits) == 0) continue;
            extra |= held & ~keep.Bits;
            names.Add(lines[0].StartsWith("Name:", StringComparison.Ordinal) ? lines[0][5..].Trim() : Path.GetFileName(task));
        }
        if (names.Count == 0) return null;
        var more = new CapabilitySet(extra);
        return $"{names.Count} threads the runtime started before ({string.Join(", ", names)}) keep what the process started with, " +
               $"{more.Count} capabilities more ({(more.Count > 8 ? "all of root's" : more.ToString())}), as only a change of uid reaches them";
    }
}
