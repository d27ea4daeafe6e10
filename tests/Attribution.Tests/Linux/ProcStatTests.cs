using System.Text;
using Attribution.Core.Linux;

namespace Attribution.Tests.Linux;

public class ProcStatTests
{
    private const string Tail = " S 1 1234 1234 0 -1 4194560 1000 0 0 0 12 5 0 0 20 0 1 0 987654 12345678 900 18446744073709551615";

    [Theory]
    [InlineData("4321 (nginx)", "nginx")]
    [InlineData("4321 (tmux: server)", "tmux: server")]
    [InlineData("4321 (a) b (c))", "a) b (c)")] // comm may hold ") " itself: the name ends at the last ')'
    [InlineData("4321 ()", "")]
    public void Parses_identity_whatever_the_comm(string head, string comm)
    {
        Assert.True(ProcStat.TryParse(Encoding.UTF8.GetBytes(head + Tail), out var stat));
        Assert.Equal(4321, stat.Pid);
        Assert.Equal(comm, stat.Comm);
        Assert.Equal(1, stat.ParentPid);
        Assert.Equal(987654UL, stat.StartTimeTicks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("4321 (x) S 1 2 3")]
    [InlineData("nope (x)" + Tail)]
    public void Rejects_truncated_or_garbled(string text) =>
        Assert.False(ProcStat.TryParse(Encoding.UTF8.GetBytes(text), out _));

    [Fact]
    public void Reads_our_own_stat()
    {
        Assert.True(ProcStat.TryParse(File.ReadAllBytes("/proc/self/stat"), out var stat));
        Assert.Equal(Environment.ProcessId, stat.Pid);
        Assert.True(stat.StartTimeTicks > 0);
    }

    [Fact]
    public void Status_uids_and_capabilities()
    {
        var status = "Name:\tx\nUid:\t1000\t1001\t1000\t1000\nGid:\t5\t5\t5\t5\nCapEff:\t0000000000002000\n"u8;
        Assert.True(ProcStatus.TryReadUids(status, out uint real, out uint effective));
        Assert.Equal(1000u, real);
        Assert.Equal(1001u, effective);
        Assert.True(ProcStatus.TryReadEffectiveCapabilities(status, out ulong caps));
        Assert.Equal(1UL << 13, caps);
    }
}
