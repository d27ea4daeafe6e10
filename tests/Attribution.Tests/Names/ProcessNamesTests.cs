using Attribution.Core.Sidecar;
using Attribution.Recorder.Names;

namespace Attribution.Tests.Names;

/// <summary>
/// The recorder's side of names over time: a name read again is written (record 10) only when it differs from the one on
/// record, placed no earlier than the last read that still found the old one; a rename the events carry is no change to
/// write again; a ring buffer's next file gets the latest name after the identity it repeats.
/// </summary>
public sealed class ProcessNamesTests : IDisposable
{
    private static readonly ProcessKey Key = new(4242, 777);
    private static readonly byte[] Argv = "worker\0--serve\0"u8.ToArray(), Title = "worker: idle\0\0\0\0\0\0\0"u8.ToArray();
    private readonly MemoryStream _file = new();
    private readonly SidecarWriter _writer;
    private readonly ProcessNames _names;

    public ProcessNamesTests()
    {
        _writer = new SidecarWriter(_file);
        _names = new ProcessNames(_writer);
    }

    private static ProcessRecord Identity(long seen, string comm = "worker", byte[]? cmdline = null) =>
        new(Key, 1, 0, 0, comm, "/usr/bin/worker", cmdline ?? Argv, "", 1, seen) { CommRaw = System.Text.Encoding.UTF8.GetBytes(comm) };

    private List<ProcessNameRecord> Written() =>
        new SidecarReader(new MemoryStream(_file.ToArray()), "t").ReadAll().OfType<ProcessNameRecord>().ToList();

    [Fact]
    public void Only_a_changed_name_is_written_placed_after_the_last_read_that_found_the_old_one()
    {
        _names.Written(Identity(seen: 10));
        _names.Compare(Key, "worker"u8, Argv, 15, 20, NameReadCause.Snapshot);          // unchanged: nothing
        _names.Compare(Key, "worker"u8, Title, 12, 30, NameReadCause.TalkAfterSilence); // placed in a silence that began before the read at 20
        _names.Compare(Key, "worker"u8, Argv, 28, 28, NameReadCause.Snapshot);          // an older read, compared late: says nothing
        _names.Compare(Key, "worker"u8, Title, 40, 40, NameReadCause.Snapshot);         // unchanged since

        var record = Assert.Single(Written());
        Assert.Equal((Key, 21L, 30L, NameReadCause.TalkAfterSilence), (record.Key, record.Nanoseconds, record.ReadNanoseconds, record.Cause));
        Assert.Equal(Title, record.Cmdline);
        Assert.Equal("worker"u8.ToArray(), record.Comm);
    }

    [Fact]
    public void A_change_is_never_placed_after_its_read()
    {
        _names.Written(Identity(seen: 10));
        _names.Compare(Key, "w2"u8, Argv, 500, 50, NameReadCause.Snapshot);
        Assert.Equal(50, Assert.Single(Written()).Nanoseconds);
    }

    [Fact]
    public void A_rename_the_events_reported_is_not_written_again_when_read()
    {
        _names.Written(Identity(seen: 10));
        _names.Renamed(Key, "pool"u8);
        _names.Compare(Key, "pool"u8, Argv, 30, 30, NameReadCause.Snapshot);
        Assert.Empty(Written());
    }

    [Fact]
    public void A_repeated_older_identity_is_followed_by_the_latest_name()
    {
        _names.Written(Identity(seen: 10));
        _names.Compare(Key, "worker"u8, Title, 25, 30, NameReadCause.TalkAfterSilence);
        _names.Written(Identity(seen: 10)); // a ring buffer's next file: the identity as first read, then the name since
        var records = Written();
        Assert.Equal(2, records.Count);
        Assert.Equivalent(records[0] with { Offset = 0 }, records[1] with { Offset = 0 }, strict: true);
    }

    [Fact]
    public void A_process_with_nothing_on_record_is_remembered_not_written()
    {
        _names.Compare(Key, "worker"u8, Argv, 10, 10, NameReadCause.Snapshot);
        _names.Compare(Key, "worker"u8, Title, 20, 20, NameReadCause.Snapshot);
        Assert.Single(Written());
        _names.Forget(Key);
        _names.Compare(Key, "other"u8, Argv, 30, 30, NameReadCause.Snapshot);
        Assert.Single(Written());
    }

    public void Dispose() => _writer.Dispose();
}

/// <summary>Reading a process's name: its comm from stat, proven the same process by its start time, and its command line.</summary>
public sealed class NameReaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("proc").FullName;

    private void Process(int pid, string stat, byte[] cmdline)
    {
        Directory.CreateDirectory(Path.Combine(_root, $"{pid}"));
        File.WriteAllText(Path.Combine(_root, $"{pid}", "stat"), stat);
        File.WriteAllBytes(Path.Combine(_root, $"{pid}", "cmdline"), cmdline);
    }

    [Fact]
    public void Comm_and_title_are_read_as_the_kernel_gives_them()
    {
        // A comm may hold spaces and parentheses: it ends at the last ')'.
        Process(123, "123 (we (ird) S 1 123 123 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 777 1000 10\n", "postgres: idle\0\0\0"u8.ToArray());
        var reader = new NameReader(_root);

        Assert.True(reader.TryRead(new ProcessKey(123, 777), out var comm, out var cmdline));
        Assert.Equal("we (ird", System.Text.Encoding.UTF8.GetString(comm));
        Assert.Equal("postgres: idle\0\0\0"u8.ToArray(), cmdline.ToArray());
        Assert.False(reader.TryRead(new ProcessKey(123, 778), out _, out _)); // the pid names another process now
        Assert.False(reader.TryRead(new ProcessKey(124, 777), out _, out _)); // gone
    }

    [Fact]
    public void This_process_reads_as_itself()
    {
        var stat = File.ReadAllBytes("/proc/self/stat");
        Assert.True(Attribution.Core.Linux.ProcStat.TryParse(stat, out var self));
        Assert.True(new NameReader("/proc").TryRead(new ProcessKey(Environment.ProcessId, self.StartTimeTicks), out var comm, out var cmdline));
        Assert.Equal(File.ReadAllText("/proc/self/comm").TrimEnd('\n'), System.Text.Encoding.UTF8.GetString(comm));
        Assert.Equal(File.ReadAllBytes("/proc/self/cmdline"), cmdline.ToArray());
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

/// <summary>Which socket call ends a silence of its process: its name is then read again.</summary>
public sealed class SilenceWatchTests
{
    private const long Ms = 1_000_000;

    [Fact]
    public void A_call_after_a_silence_ends_it_and_says_when_it_began()
    {
        var watch = new SilenceWatch();
        Assert.False(watch.EndsSilence(7, 1000 * Ms, out _));            // met for the first time: read with its identity
        Assert.False(watch.EndsSilence(7, 1100 * Ms, out _));            // talking
        Assert.True(watch.EndsSilence(7, 1600 * Ms, out long since));    // after 500 ms of silence
        Assert.Equal(1100 * Ms, since);
        Assert.False(watch.EndsSilence(7, 1300 * Ms, out _));            // another CPU's earlier call, drained late
        Assert.False(watch.EndsSilence(7, 1700 * Ms, out _));
        watch.Forget(7);
        Assert.False(watch.EndsSilence(7, 9000 * Ms, out _));            // exited: a new process with that pid is met anew
    }

    [Fact]
    public void Processes_are_watched_apart()
    {
        var watch = new SilenceWatch();
        watch.EndsSilence(1, 0, out _);
        watch.EndsSilence(2, 300 * Ms, out _);
        Assert.True(watch.EndsSilence(1, SilenceWatch.SilenceNs, out _));
        Assert.False(watch.EndsSilence(2, 400 * Ms, out _));
    }
}
