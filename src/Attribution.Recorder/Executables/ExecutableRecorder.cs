using Attribution.Core.Sidecar;
using Attribution.Recorder.Native;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Executables;

/// <summary>
/// What the recorded processes ran: for every process record the sidecar takes (SidecarWriter.Written) that names an
/// executable identity, on a thread of its own (so no snapshot waits for a file to be read), the SHA-256 of that
/// executable, read through the process's /proc/PID/exe, once per identity (device, inode, size, mtime) for the
/// recording and written once per identity and file (record 16); and, every <see cref="LookEvery"/>, whether a process
/// already hashed now runs a deleted file, written as another record 16 of its identity. Hashing runs at nice 10 and
/// within <see cref="ExecutableHashLimits"/>; whatever is not hashed is written with the reason.
/// </summary>
internal sealed class ExecutableRecorder : IDisposable
{
    /// <summary>How often the running processes' links are looked at again for a deletion: one readlink each.</summary>
    public static readonly TimeSpan LookEvery = TimeSpan.FromSeconds(2);
    /// <summary>How long the thread goes on hashing what is queued once the recording stops; the rest is written as recording-ended.</summary>
    public static readonly TimeSpan GraceAtStop = TimeSpan.FromSeconds(10);
    /// <summary>
    /// Reads of an identity that could not be hashed for a reason another process running it might not share (unreadable,
    /// changed while read). One whose process was gone before it was opened costs no read, and is tried again with every
    /// process that runs it: many short-lived processes of one program must not leave it unhashed.
    /// </summary>
    private const int MaxAttempts = 3;
    private const int MaxKnown = 65_536;
    private const int Nice = 10;

    private sealed class Known(ExecutableRecord result, int generation)
    {
        public ExecutableRecord Result = result;
        public int Generation = generation, Attempts = 1;
        /// <summary>Hashed, or left unhashed for a reason no other process would change: not read again.</summary>
        public bool Final => Result.Outcome is ExecutableHashOutcome.Hashed or ExecutableHashOutcome.OverSizeCap or ExecutableHashOutcome.BudgetSpent;
        public bool WorthAnotherAttempt => !Final && (Result.Outcome is ExecutableHashOutcome.Gone or ExecutableHashOutcome.RecordingEnded || Attempts < MaxAttempts);
    }

    private readonly SidecarWriter _writer;
    private readonly string _procRoot;
    private readonly ExecutableDigest _digest;
    private readonly DeletionWatch _watch;
    private readonly Dictionary<ExecutableIdentity, Known> _known = CacheCensus.Tracked("ExecutableRecorder.known", new Dictionary<ExecutableIdentity, Known>());
    private readonly Queue<(ProcessKey Key, ExecutableIdentity Identity)> _queue = CacheCensus.Tracked("ExecutableRecorder.queue", new Queue<(ProcessKey Key, ExecutableIdentity Identity)>());
    private readonly int[] _outcomes = new int[Enum.GetValues<ExecutableHashOutcome>().Length];
    private readonly Thread _thread;
    private volatile bool _failed;
    private bool _stopping;
    private long _stopDeadline;
    private long _bytesHashed;
    private int _deletedWhenRead, _deletedSince, _memfd;

    private ExecutableRecorder(SidecarWriter writer, string procRoot, ExecutableHashLimits limits)
    {
        (_writer, _procRoot, _digest, _watch) = (writer, procRoot, new ExecutableDigest(procRoot, limits), new DeletionWatch(procRoot));
        _thread = new Thread(Run) { Name = "attribution executables", IsBackground = true };
    }

    /// <summary>Starts the thread: after the privilege drop, like every thread of the recording, which it needs only CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH of.</summary>
    public static ExecutableRecorder Start(SidecarWriter writer, string procRoot, ExecutableHashLimits limits)
    {
        var recorder = new ExecutableRecorder(writer, procRoot, limits);
        writer.Written += recorder.OnWritten;
        recorder._thread.Start();
        return recorder;
    }

    /// <summary>On the writing thread: queues a process record's executable, nothing more.</summary>
    private void OnWritten(SidecarRecord record, int generation)
    {
        if (_failed || record is not ProcessRecord { ExeIdentity: { } identity } process) return;
        lock (_queue)
        {
            _queue.Enqueue((process.Key, identity));
            Monitor.Pulse(_queue);
        }
    }

    private void Run()
    {
        // Below the capture and snapshot threads: hashing a large file never takes a core from them when cores are short.
        LibC.setpriority(LibC.PrioProcess, (uint)LibC.gettid(), Nice);
        long nextLook = Environment.TickCount64 + (long)LookEvery.TotalMilliseconds;
        try
        {
            while (true)
            {
                (ProcessKey Key, ExecutableIdentity Identity) next = default;
                bool queued;
                lock (_queue)
                {
                    while (_queue.Count == 0 && !_stopping && Environment.TickCount64 < nextLook)
                        Monitor.Wait(_queue, TimeSpan.FromMilliseconds(Math.Max(1, nextLook - Environment.TickCount64)));
                    if (_queue.Count == 0 && _stopping) break;
                    queued = _queue.TryDequeue(out next);
                }
                if (!queued)
                {
                    LookForDeletions();
                    nextLook = Environment.TickCount64 + (long)LookEvery.TotalMilliseconds;
                    continue;
                }
                Process(next.Key, next.Identity, deletedSince: false);
            }
            LookForDeletions(); // a file deleted in the recording's last seconds
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            _failed = true; // the sidecar cannot be written: the snapshots fail and say so
            lock (_queue) _queue.Clear();
        }
    }

    private void LookForDeletions()
    {
        foreach (var (key, identity) in _watch.NewlyDeleted()) Process(key, identity, deletedSince: true);
    }

    /// <summary>
    /// One process's executable: hashed if no process's was (or an earlier attempt failed for its own process's reason),
    /// written into the current file unless it has it; a deletion seen since is always written, as read now.
    /// </summary>
    private void Process(ProcessKey key, ExecutableIdentity identity, bool deletedSince)
    {
        int generation = _writer.Generation;
        _known.TryGetValue(identity, out var known);
        ExecutableRecord record;
        if (known is not null && !known.WorthAnotherAttempt)
        {
            if (!deletedSince && known.Generation == generation)
            {
                _watch.Watch(key, identity, ExecutableFlags.None);
                return;
            }
            // Read before: this file gets its own copy (no read, so no cost); a deletion, with the link as it reads now.
            record = known.Result with { OpenedThrough = key, ReadNanoseconds = Core.Time.RealtimeClock.NowNanoseconds(), BytesRead = 0, CpuNanoseconds = 0 };
            if (deletedSince) record = WithLinkNow(record);
        }
        else
        {
            record = PastDeadline() ? Unread(key, identity) : _digest.Read(key, identity);
            // The same failure again, in a file that already says it: a program that many short-lived processes run
            // (each gone before its turn) would otherwise write a record for each.
            if (known is not null && !deletedSince && known.Generation == generation && record.Outcome == known.Result.Outcome)
            {
                known.Attempts++;
                _watch.Watch(key, identity, record.Flags);
                return;
            }
            Count(record);
            if (known is null)
            {
                if (_known.Count >= MaxKnown) _known.Clear(); // only a cache: an executable forgotten is hashed again
                _known[identity] = known = new Known(record, generation);
            }
            else
            {
                known.Attempts++;
                known.Result = record;
            }
        }
        known.Generation = _writer.Write(record);
        if (deletedSince) _deletedSince++;
        _watch.Watch(key, identity, record.Flags);
    }

    /// <summary>A copy of a hash record with the link of <see cref="ExecutableRecord.OpenedThrough"/> as it reads now.</summary>
    private ExecutableRecord WithLinkNow(ExecutableRecord record)
    {
        var path = Core.Linux.ProcPaths.Process(_procRoot, record.OpenedThrough.Pid, Core.Linux.ProcPaths.Exe);
        var link = Snapshots.ProcReader.ReadLinkBytes(path) ?? record.Link;
        return record with { Link = link, Flags = ExecutableLink.FlagsOf(link) };
    }

    private bool PastDeadline()
    {
        lock (_queue) return _stopping && Environment.TickCount64 > _stopDeadline;
    }

    private static ExecutableRecord Unread(ProcessKey key, ExecutableIdentity identity) =>
        new(identity, key, Core.Time.RealtimeClock.NowNanoseconds(), [], ExecutableFlags.None, ExecutableHashOutcome.RecordingEnded, [], 0, 0, 0);

    private void Count(ExecutableRecord record)
    {
        _outcomes[(int)record.Outcome]++;
        _bytesHashed += record.Outcome == ExecutableHashOutcome.Hashed ? record.BytesRead : 0;
        if (record.Flags == ExecutableFlags.Deleted) _deletedWhenRead++;
        if ((record.Flags & ExecutableFlags.Memfd) != 0) _memfd++;
    }

    /// <summary>One line for the end of the recording: how many executables were hashed, and what was left and why.</summary>
    public string Summary
    {
        get
        {
            var skipped = Enum.GetValues<ExecutableHashOutcome>().Skip(1).Where(o => _outcomes[(int)o] > 0)
                .Select(o => $"{_outcomes[(int)o]} {ExecutableHashNotes.Of(o)}").ToList();
            return $"executables: {_outcomes[0]} hashed ({_bytesHashed / 1e6:0.#} MB in {_digest.CpuNanoseconds / 1e6:0} ms of CPU)" +
                   (skipped.Count == 0 ? "" : $"; not hashed: {string.Join(", ", skipped)}") +
                   (_deletedWhenRead + _deletedSince + _memfd == 0 ? "" :
                       $"; run deleted: {_deletedWhenRead} when read, {_deletedSince} deleted later while running; run from memory (memfd): {_memfd}");
        }
    }

    /// <summary>Hashes what is queued (for at most <see cref="GraceAtStop"/>), looks for deletions once more, then stops: before the sidecar closes.</summary>
    public void Stop()
    {
        lock (_queue)
        {
            _stopping = true;
            _stopDeadline = Environment.TickCount64 + (long)GraceAtStop.TotalMilliseconds;
            Monitor.Pulse(_queue);
        }
        _thread.Join();
        _writer.Written -= OnWritten;
    }

    public void Dispose()
    {
        if (_thread.IsAlive) Stop();
    }
}
