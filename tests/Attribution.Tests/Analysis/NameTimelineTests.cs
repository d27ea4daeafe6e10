using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Evidence.Names;
using Attribution.Core.Sidecar;

namespace Attribution.Tests.Analysis;

/// <summary>A process's names in time, and the name in force at a given moment (the lookup every annotated packet makes).</summary>
public sealed class NameTimelineTests
{
    private static readonly byte[] Argv = "worker\0--serve\0"u8.ToArray(), Title = "worker: idle\0\0\0\0\0\0"u8.ToArray();

    private static NameObservation Identity(long ns, string comm, byte[] cmdline) => new(ns, NameSource.Exec, comm, null, cmdline);
    private static NameObservation Rename(long ns, string from, string to) => new(ns, NameSource.Rename, to, null, null, from);
    private static NameObservation Read(long ns, string? comm, byte[] cmdline) => new(ns, NameSource.TitleRead, comm, null, cmdline);

    private static ProcessTable.ProcessEntry Entry(IReadOnlyList<ProcessName> names) =>
        new() { Id = 1, Key = new ProcessKey(7, 1), Names = names };

    [Fact]
    public void Each_change_holds_from_its_time_and_the_first_name_from_the_start()
    {
        var names = NameTimeline.Build(100, [Identity(150, "worker", Argv), Rename(300, "worker", "pool-1"), Read(500, null, Title)]);

        Assert.Equal([(100L, "worker", NameSource.Exec), (300L, "pool-1", NameSource.Rename), (500L, "pool-1", NameSource.TitleRead)],
            names.Select(n => (n.FromNs, n.Comm, n.Source)));
        Assert.Equal(Argv, names[1].Cmdline);
        Assert.Equal(Title, names[2].Cmdline);
        Assert.Equal("worker: idle     ", names[2].CmdlineText);
    }

    [Fact]
    public void Before_a_rename_the_process_had_the_comm_the_rename_replaced_even_if_read_only_after_it()
    {
        // Met first at a snapshot after it renamed itself (a re-executed program: comm "exe", then its own name).
        var names = NameTimeline.Build(100, [Rename(120, "exe", "chrome"), Identity(400, "chrome", Argv)]);

        Assert.Equal([(100L, "exe"), (120L, "chrome")], names.Select(n => (n.FromNs, n.Comm)));
        Assert.All(names, n => Assert.Equal(Argv, n.Cmdline)); // the first command line known stands for the time before it
    }

    [Fact]
    public void What_changes_nothing_adds_no_name_and_two_at_one_moment_make_one()
    {
        var names = NameTimeline.Build(100, [
            Identity(100, "worker", Argv), Identity(100, "worker", Argv), // a ring buffer's next file repeats the identity
            Read(200, "worker", Argv), Read(300, "w2", Argv), Read(300, "w3", Argv)]);

        Assert.Equal([(100L, "worker"), (300L, "w3")], names.Select(n => (n.FromNs, n.Comm)));
    }

    [Fact]
    public void Observations_out_of_order_are_placed_in_time()
    {
        var names = NameTimeline.Build(100, [Rename(900, "b", "c"), Identity(100, "a", Argv), Rename(500, "a", "b")]);
        Assert.Equal(["a", "b", "c"], names.Select(n => n.Comm));
    }

    [Theory]
    [InlineData(50, 0)]   // before the first name began: the first
    [InlineData(100, 0)]
    [InlineData(299, 0)]
    [InlineData(300, 1)]  // from the very nanosecond of the change
    [InlineData(499, 1)]
    [InlineData(500, 2)]
    [InlineData(long.MaxValue, 2)]
    public void The_name_at_a_time_is_the_latest_begun_by_then(long ns, int expected)
    {
        var entry = Entry(NameTimeline.Build(100, [Identity(100, "a", Argv), Rename(300, "a", "b"), Read(500, null, Title)]));
        Assert.Equal(expected, entry.NameIndexAt(ns));
        Assert.Same(entry.Names[expected], entry.NameAt(ns));
    }

    [Fact]
    public void A_process_without_names_has_none_at_any_time()
    {
        var entry = Entry([]);
        Assert.Equal(0, entry.NameIndexAt(123));
        Assert.Null(entry.NameAt(123));
        Assert.Empty(NameTimeline.Build(0, []));
    }
}
