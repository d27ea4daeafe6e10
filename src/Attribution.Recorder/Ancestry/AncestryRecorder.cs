using Attribution.Core.Sidecar;
using Attribution.Core.Time;
using Attribution.Recorder.Snapshots;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Ancestry;

/// <summary>
/// Who started the processes recorded: for every process record the sidecar takes (SidecarWriter.Written), on a thread
/// of its own, so the snapshots never wait for it, the record of its parent, read from /proc, unless the file has it
/// already, which in turn brings its own parent's, up to pid 1; and the user names of its uid and login uid, once per
/// uid and file (record 14). A parent is the process its ppid names now only if that one began no later than the
/// child (a pid reused after the parent's exit began after): a parent that has exited leaves its place to the kernel
/// events' fork, which the analyzer reads (docs/FORMAT.md, record 2).
/// </summary>
internal sealed class AncestryRecorder : IDisposable
{
    private readonly SidecarWriter _writer;
    private readonly ProcessIdentities _identities;
    private readonly IdentityReader _reader;
    private readonly UserNames _users = new();
    private readonly Dictionary<uint, int> _usersWritten = CacheCensus.Tracked("AncestryRecorder.usersWritten", new Dictionary<uint, int>()); // uid → the file (generation) its name went into
    private readonly Queue<(ProcessRecord Record, int Generation)> _queue = CacheCensus.Tracked("AncestryRecorder.queue", new Queue<(ProcessRecord Record, int Generation)>());
    private readonly Thread _thread;
    private volatile bool _failed;
    private bool _stopping;

    public int AncestorsWritten { get; private set; }

    private AncestryRecorder(SidecarWriter writer, ProcessIdentities identities, string procRoot)
    {
        (_writer, _identities, _reader) = (writer, identities, new IdentityReader(procRoot));
        _thread = new Thread(Run) { Name = "attribution ancestry", IsBackground = true };
    }

    public static AncestryRecorder Start(SidecarWriter writer, ProcessIdentities identities, string procRoot)
    {
        var recorder = new AncestryRecorder(writer, identities, procRoot);
        writer.Written += recorder.OnWritten;
        recorder._thread.Start();
        return recorder;
    }

    /// <summary>On the writing thread: queues a process record, nothing more.</summary>
    private void OnWritten(SidecarRecord record, int generation)
    {
        if (_failed || record is not ProcessRecord process) return;
        lock (_queue)
        {
            _queue.Enqueue((process, generation));
            Monitor.Pulse(_queue);
        }
    }

    private void Run()
    {
        while (true)
        {
            (ProcessRecord Record, int Generation) next;
            lock (_queue)
            {
                while (_queue.Count == 0 && !_stopping) Monitor.Wait(_queue);
                if (_queue.Count == 0) return;
                next = _queue.Dequeue();
            }
            // A record of a file already closed: the next file names its processes again, and their parents then.
            if (next.Generation != _writer.Generation) continue;
            try
            {
                WriteUsers(next.Record, next.Generation);
                WriteParent(next.Record);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                _failed = true; // the sidecar cannot be written: the snapshots fail and say so
                lock (_queue) _queue.Clear();
                return;
            }
        }
    }

    private void WriteUsers(ProcessRecord process, int generation)
    {
        WriteUser(process.Uid, generation);
        if (process.LoginUid is { } login and not ProcessRecord.NoLogin) WriteUser(login, generation);
    }

    private void WriteUser(uint uid, int generation)
    {
        if (_usersWritten.TryGetValue(uid, out int written) && written == generation) return;
        _usersWritten[uid] = _writer.Write(_users.Of(uid));
    }

    private void WriteParent(ProcessRecord child)
    {
        int ppid = child.ParentPid;
        if (ppid <= 0 || !_reader.TryReadStat(ppid, out var stat) || stat.StartTimeTicks > child.Key.StartTimeTicks) return;
        var key = new ProcessKey(ppid, stat.StartTimeTicks);
        if (_identities.Contains(key) || !_reader.TryReadNetns(ppid, out ulong netns)) return;
        var parent = _reader.ReadIdentity(key, netns, RealtimeClock.NowNanoseconds());
        if (parent is null) return;
        _identities.Add(parent, _writer.Write(parent)); // its own parent follows, from the queue
        AncestorsWritten++;
    }

    /// <summary>Writes the parents and users of every record queued so far (and theirs), then stops: before the sidecar closes.</summary>
    public void Stop()
    {
        lock (_queue)
        {
            _stopping = true;
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
