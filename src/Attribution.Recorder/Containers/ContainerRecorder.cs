using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Containers;

/// <summary>
/// Names the containers the recording's processes ran in (sidecar record 11). It learns of every process record as the
/// sidecar writer takes it, from any thread, and queues only its cgroup text; its own thread finds the container the
/// cgroup names, reads the runtime's files about it once (<see cref="ContainerFiles"/>), and writes what it read. So no
/// snapshot waits for a runtime's files, and a container removed later is still named in the recording.
/// </summary>
/// <remarks>
/// Each sidecar file of a ring buffer reads on its own: a container's record is written again, from memory, into each
/// file whose process records name the container. A file closed between a process record and its container's record
/// lacks that record; the next file has it.
/// </remarks>
internal sealed class ContainerRecorder : IDisposable
{
    /// <summary>Records kept in memory to write into the next file; past it the oldest files' containers are read again if they come back.</summary>
    private const int MaxKept = 4096;
    private const int MaxCgroupsKnown = 4096;

    private sealed class Known(ContainerRecord? record, int generation)
    {
        public ContainerRecord? Record = record;
        public int Generation = generation;
    }

    private readonly SidecarWriter _writer;
    private readonly ContainerFiles _files;
    private readonly Queue<(string Cgroup, int Generation)> _queue = CacheCensus.Tracked("ContainerRecorder.queue", new Queue<(string Cgroup, int Generation)>());
    private readonly Dictionary<string, ContainerIdentity?> _cgroups = CacheCensus.Tracked("ContainerRecorder.cgroups", new Dictionary<string, ContainerIdentity?>(StringComparer.Ordinal));
    private readonly Dictionary<string, Known> _known = CacheCensus.Tracked("ContainerRecorder.known", new Dictionary<string, Known>(StringComparer.Ordinal));
    private readonly Thread _thread;
    private bool _stopping;
    private volatile bool _failed;
    private int _kept;

    /// <summary>Containers whose runtimes' files were read (each once, unless forgotten and met again in a later file).</summary>
    public int ContainersRead { get; private set; }

    private ContainerRecorder(SidecarWriter writer, string hostRoot)
    {
        _writer = writer;
        _files = new ContainerFiles(hostRoot);
        _thread = new Thread(Run) { Name = "attribution containers", IsBackground = true };
    }

    /// <summary>Starts naming the containers of the process records <paramref name="writer"/> takes from now on.</summary>
    public static ContainerRecorder Start(SidecarWriter writer, string hostRoot = "/")
    {
        var recorder = new ContainerRecorder(writer, hostRoot);
        writer.Written += recorder.OnWritten;
        recorder._thread.Start();
        return recorder;
    }

    /// <summary>On the writing thread: queues the cgroup of a process record, nothing more.</summary>
    private void OnWritten(SidecarRecord record, int generation)
    {
        if (_failed || record is not ProcessRecord { Cgroup.Length: > 0 } process) return;
        lock (_queue)
        {
            _queue.Enqueue((process.Cgroup, generation));
            Monitor.Pulse(_queue);
        }
    }

    private void Run()
    {
        while (true)
        {
            (string Cgroup, int Generation) next;
            lock (_queue)
            {
                while (_queue.Count == 0 && !_stopping) Monitor.Wait(_queue);
                if (_queue.Count == 0) return; // stopping, and every record queued before is named
                next = _queue.Dequeue();
            }
            try { Name(next.Cgroup, next.Generation); }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // The sidecar cannot be written: the snapshots fail and say so; names are not worth a second report, and
                // nothing is queued any more for a thread that is gone.
                _failed = true;
                lock (_queue) _queue.Clear();
                return;
            }
        }
    }

    private void Name(string cgroup, int generation)
    {
        if (!_cgroups.TryGetValue(cgroup, out var identity))
        {
            if (_cgroups.Count >= MaxCgroupsKnown) _cgroups.Clear(); // only a cache of the parse
            _cgroups[cgroup] = identity = ContainerIdentity.FromCgroup(cgroup);
        }
        // Only runtimes' 64-hex ids name files of theirs; a machine's or an LXC container's name is its name already.
        if (identity is null || identity.ShortId == identity.Id) return;
        if (!_known.TryGetValue(identity.Id, out var known)) _known[identity.Id] = known = new Known(null, -1);
        if (known.Generation >= generation) return;
        if (known.Record is null)
        {
            List<ContainerSource> sources;
            // A file this reader cannot make sense of costs the container its name, never the recording.
            try { sources = _files.Read(identity.Id, identity.PodUid); }
            catch (Exception e) when (e is not OutOfMemoryException) { sources = []; }
            known.Record = new ContainerRecord(identity.Id, identity.Runtime ?? "", Core.Time.RealtimeClock.NowNanoseconds(), sources);
            ContainersRead++;
            if (++_kept > MaxKept) Forget(generation);
        }
        known.Generation = _writer.Write(known.Record);
    }

    /// <summary>Drops the records of containers not named in the current file: ids stay, so none is read twice for one file.</summary>
    private void Forget(int current)
    {
        foreach (var k in _known.Values)
            if (k.Generation < current && k.Record is not null)
            {
                k.Record = null;
                _kept--;
            }
    }

    /// <summary>Names the containers of every process record queued so far, then stops: before the sidecar closes.</summary>
    public void Stop()
    {
        _writer.Written -= OnWritten;
        lock (_queue)
        {
            _stopping = true;
            Monitor.Pulse(_queue);
        }
        _thread.Join();
    }

    public void Dispose()
    {
        if (_thread.IsAlive) Stop();
    }
}
