using System.Globalization;
using System.Runtime.CompilerServices;
using Attribution.Recorder.Native;

namespace Attribution.Recorder;

/// <summary>
/// The capabilities of the other threads of this process. Capabilities belong to threads and capset changes only its
/// caller's, so the threads the .NET runtime made before the drop (its synchronization manager, debugger, tiered
/// compiler, finalizer) keep what the process started with unless something runs on each of them. glibc does that for a
/// change of uid (and one from 0 makes the kernel clear theirs), but not for capset, and the uid does not always change
/// (-Z root, a ring kept at uid 0, a start without root). They run no recorder code and need no capability.
/// </summary>
internal static class ThreadCapabilities
{
    /// <summary>
    /// Has every other thread that holds more than <paramref name="keep"/>, or anything inheritable or ambient, or may gain
    /// privileges by exec, give up every capability and set no_new_privs itself: a real-time signal no one else uses is sent
    /// to each (tgkill) and handled there by <see cref="DropHandler"/>, the way glibc itself sends setresuid to every
    /// thread. Threads made meanwhile by one not yet reached are caught by the next look, three at most. Where that handler
    /// cannot be had (not x86-64, no executable memory, no free signal) only the finalizer thread is reached, through a
    /// finalizer. What is left over, <see cref="HoldingMoreThan"/> tells.
    /// </summary>
    public static void DropOnOtherThreads(CapabilitySet keep)
    {
        if (DropHandler.TryCreate() is not { } handler || FreeSignal() is not { } signal || !Install(signal, handler.Entry))
        {
            DropOnFinalizerThread();
            return;
        }
        int self = LibC.gettid(), pid = Environment.ProcessId;
        for (int round = 0; round < 3; round++)
        {
            var targets = Threads().Where(t => t.Tid != self && t.Exceeds(keep)).ToList();
            if (targets.Count == 0) break;
            int before = handler.Done, sent = targets.Count(t => LibC.tgkill(pid, t.Tid, signal) == 0); // ended since: not sent
            var deadline = DateTime.UtcNow.AddSeconds(10); // a busy machine may take long to run each of them once
            // A thread that ends first takes its signal with it. Whatever is still wrong, the next look sees.
            while (handler.Done - before + targets.Count(t => !Directory.Exists($"/proc/self/task/{t.Tid}")) < sent && DateTime.UtcNow < deadline)
                Thread.Sleep(1);
        }
    }

    /// <summary>The highest real-time signal nothing handles or ignores (the runtime takes the lowest), or null.</summary>
    private static unsafe int? FreeSignal()
    {
        for (int signal = LibC.__libc_current_sigrtmax(); signal > LibC.__libc_current_sigrtmin(); signal--)
        {
            LibC.SigAction current;
            if (LibC.sigaction(signal, null, &current) == 0 && current.Handler == 0) return signal;
        }
        return null;
    }

    /// <summary>
    /// Installs the handler for good: real-time signals queue, so one sent twice may still be pending when its thread is
    /// right, and the default action would end the process. It does nothing with a signal not sent by this process.
    /// </summary>
    private static unsafe bool Install(int signal, nint handler)
    {
        var action = new LibC.SigAction { Handler = handler, Flags = LibC.SaSiginfo | LibC.SaRestart }; // restart what it interrupts
        return LibC.sigaction(signal, &action, null) == 0;
    }

    /// <summary>The finalizer thread's own drop, from a finalizer run for that purpose (where no signal handler can be had).</summary>
    private static void DropOnFinalizerThread()
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

    /// <summary>The threads that hold more than <paramref name="keep"/> (permitted or effective), said plainly, or null.</summary>
    public static string? HoldingMoreThan(CapabilitySet keep)
    {
        var over = Threads().Where(t => ((t.Permitted | t.Effective) & ~keep.Bits) != 0).ToList();
        if (over.Count == 0) return null;
        var more = new CapabilitySet(over.Aggregate(0UL, (bits, t) => bits | ((t.Permitted | t.Effective) & ~keep.Bits)));
        return $"{over.Count} threads the runtime started before ({string.Join(", ", over.Select(t => t.Name))}) could not be " +
               $"reached and keep {more.Count} capabilities more ({(more.Count > 8 ? "all of root's" : more.ToString())})";
    }

    /// <summary>One thread's credentials, as /proc/self/task/TID/status shows them.</summary>
    private sealed record ThreadStatus(int Tid, string Name, ulong Permitted, ulong Effective, ulong Inheritable, ulong Ambient, bool NoNewPrivs)
    {
        public bool Exceeds(CapabilitySet keep) =>
            ((Permitted | Effective) & ~keep.Bits) != 0 || (Inheritable | Ambient) != 0 || !NoNewPrivs;
    }

    private static IEnumerable<ThreadStatus> Threads()
    {
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (!int.TryParse(Path.GetFileName(task), out int tid)) continue;
            string[] lines;
            try { lines = File.ReadAllLines(Path.Combine(task, "status")); }
            catch (IOException) { continue; } // the thread ended meanwhile
            string? Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal))?[(name.Length + 1)..].Trim();
            ulong Hex(string name) => ulong.TryParse(Field(name), NumberStyles.HexNumber, null, out var v) ? v : 0; // CapAmb: none before Linux 4.3
            yield return new ThreadStatus(tid, Field("Name") ?? $"{tid}", Hex("CapPrm"), Hex("CapEff"), Hex("CapInh"), Hex("CapAmb"), Field("NoNewPrivs") == "1");
        }
    }
}
