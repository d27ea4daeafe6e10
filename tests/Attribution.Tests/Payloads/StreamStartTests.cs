using Attribution.Analyzer.Payloads;

namespace Attribution.Tests.Payloads;

public class StreamStartTests
{
    [Fact]
    public void Segments_join_in_sequence_retransmissions_add_only_what_is_new_and_a_gap_stops()
    {
        using var s = new StreamStart(16);
        s.Begin(uint.MaxValue - 2, "abcd"u8); // across the sequence numbers' wrap
        Assert.True(s.Add(uint.MaxValue - 2, "abcd"u8));   // the same again
        Assert.True(s.Add(uint.MaxValue, "cdef"u8));       // overlaps by two
        Assert.Equal("abcdef", System.Text.Encoding.ASCII.GetString(s.Bytes));
        Assert.False(s.Add(10, "zz"u8));                    // after a gap
        Assert.True(s.Add(3, "ghijklmnopqrstuvwxyz"u8));    // up to the capacity
        Assert.Equal(16, s.Length);
        Assert.True(s.Full);
    }
}
