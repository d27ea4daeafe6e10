using Attribution.Analyzer.Payloads;

namespace Attribution.Tests.Payloads;

/// <summary>The DNS decoder on responses laid out per RFC 1035 (and 3596 for AAAA), and on hostile ones.</summary>
public class DnsResponseTests
{
    private const int QuestionAt = 12;

    private static (NameScan Scan, List<DnsAnswer> Answers) Read(byte[] message)
    {
        var answers = new List<DnsAnswer>();
        return (DnsResponse.Read(message, answers), answers);
    }

    [Fact]
    public void An_a_record_compressed_onto_the_question_gives_its_address_and_ttl()
    {
        var m = DnsBytes.Response("update-check.evil.example", 1, 1).Pointer(QuestionAt).A(300, "203.0.113.7").ToArray();
        var (scan, answers) = Read(m);
        Assert.Equal(NameScan.Found, scan);
        var a = Assert.Single(answers);
        Assert.Equal(("update-check.evil.example", "update-check.evil.example", DnsRecordType.A, "203.0.113.7", 300u),
            (a.Query, a.Name, a.Type, a.Address.ToString(), a.Ttl));
    }

    [Fact]
    public void A_cname_chain_leads_from_the_question_to_the_addresses_in_any_order()
    {
        // The A records come first, then the CNAMEs that lead to them (resolvers do not always order them).
        var m = DnsBytes.Response("www.example.com", 28, 4);
        m.Name("edge.cdn.example.net").Aaaa(20, "2001:db8::7");
        m.Name("cdn.example.net").Cname(60, "edge.cdn.example.net");
        m.Pointer(QuestionAt).Cname(3600, "cdn.example.net");
        m.Name("unrelated.example.org").A(60, "198.51.100.1"); // off the chain: not this question's
        var (scan, answers) = Read(m.ToArray());
        Assert.Equal(NameScan.Found, scan);
        Assert.All(answers, a => Assert.Equal("www.example.com", a.Query));
        Assert.Equal(["CNAME www.example.com -> cdn.example.net", "CNAME cdn.example.net -> edge.cdn.example.net", "AAAA edge.cdn.example.net -> 2001:db8::7"],
            answers.Select(a => $"{DnsAnswer.Word(a.Type)} {a.Name} -> {(a.IsAddress ? a.Address.ToString() : a.Target)}").ToHashSet().Order(new ChainOrder()).ToArray());
    }

    private sealed class ChainOrder : IComparer<string>
    {
        public int Compare(string? x, string? y) => Rank(x!).CompareTo(Rank(y!));
        private static int Rank(string s) => s.StartsWith("CNAME www") ? 0 : s.StartsWith("CNAME") ? 1 : 2;
    }

    [Fact]
    public void Names_are_compared_without_case_and_kept_as_written()
    {
        var m = DnsBytes.Response("WWW.Example.COM", 1, 1).Name("www.example.com").A(5, "192.0.2.1").ToArray();
        var a = Assert.Single(Read(m).Answers);
        Assert.Equal("WWW.Example.COM", a.Query);
        Assert.Equal("www.example.com", a.Name);
    }

    [Fact]
    public void A_ttl_with_its_top_bit_set_is_zero()
    {
        var m = DnsBytes.Response("a.test", 1, 1).Pointer(QuestionAt).A(0x80000000, "192.0.2.1").ToArray();
        Assert.Equal(0u, Assert.Single(Read(m).Answers).Ttl);
    }

    [Fact]
    public void A_query_is_not_an_answer_but_is_recognised_on_any_port()
    {
        var q = DnsBytes.Response("a.test", 1, 0, response: false).ToArray();
        Assert.Equal(NameScan.NotThis, Read(q).Scan);
        Assert.True(DnsResponse.IsQuery(q));
        Assert.False(DnsResponse.IsQuery("GET / HTTP/1.1\r\nHost: a\r\n\r\n"u8.ToArray()));
        Assert.False(DnsResponse.IsQuery(new byte[40]));
    }

    [Fact]
    public void A_name_with_a_dot_inside_a_label_invalid_utf8_or_a_backslash_is_stored_escaped_and_apart()
    {
        var m = DnsBytes.Response("x", 1, 1);
        // Owner: one label "a.b" (a dot inside it), then "\xff\\" and "é" (valid UTF-8, kept).
        m.U8(3).Raw("a.b"u8.ToArray()).U8(2).Raw(0xFF, (byte)'\\').U8(2).Raw(0xC3, 0xA9).U8(0);
        var owner = new byte[] { 3, (byte)'a', (byte)'.', (byte)'b', 2, 0xFF, (byte)'\\', 2, 0xC3, 0xA9, 0 };
        Assert.Equal("a\\x2eb.\\xff\\x5c.é", NameText.OfWire(owner));
        Assert.Equal("evil\\x0d\\x0aname\\x20x", NameText.Of("evil\r\nname x"u8));
    }

    public static TheoryData<string, byte[]> Hostile()
    {
        var loop = DnsBytes.Response("a.test", 1, 1);
        int at = loop.Length;
        loop.Pointer(at).A(1, "192.0.2.1"); // a pointer to itself
        var forward = DnsBytes.Response("a.test", 1, 1);
        forward.Pointer(forward.Length + 2).U8(0).A(1, "192.0.2.1"); // points ahead
        var mutual = DnsBytes.Response("a.test", 1, 2);
        int first = mutual.Length;
        mutual.U8(1).Raw((byte)'x').Pointer(first + 18).A(1, "192.0.2.1"); // "x" then forwards...
        mutual.Pointer(first).A(1, "192.0.2.2");                            // ...to one pointing back at it
        var past = DnsBytes.Response("a.test", 1, 1).Pointer(0x3FFF).A(1, "192.0.2.1");
        var longLabel = DnsBytes.Response("a.test", 1, 1).U8(64).Raw(new byte[64]).U8(0).A(1, "192.0.2.1");
        var reserved = DnsBytes.Response("a.test", 1, 1).U8(0x80).U8(0).A(1, "192.0.2.1");
        var longName = DnsBytes.Response("a.test", 1, 1);
        for (int i = 0; i < 5; i++) longName.U8(60).Raw(Enumerable.Repeat((byte)'a', 60).ToArray());
        longName.U8(0).A(1, "192.0.2.1"); // 5 × 61 + 1 = 306 bytes > 255
        var rdataPast = DnsBytes.Response("a.test", 1, 1).Pointer(QuestionAt).U16(1).U16(1).U32(1).U16(400).Raw(192, 0, 2, 1);
        var cnamePast = DnsBytes.Response("a.test", 5, 1).Pointer(QuestionAt).Record(5, 1, [3, (byte)'a', (byte)'b', (byte)'c']); // no end to the target
        return new()
        {
            { "a pointer to itself", loop.ToArray() },
            { "a pointer forwards", forward.ToArray() },
            { "two pointers at each other", mutual.ToArray() },
            { "a pointer past the message", past.ToArray() },
            { "a label of 64", longLabel.ToArray() },
            { "a reserved label type", reserved.ToArray() },
            { "a name over 255 bytes", longName.ToArray() },
            { "record data past the message", rdataPast.ToArray() },
            { "a CNAME target running out of its record", cnamePast.ToArray() },
        };
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_messages_are_malformed_never_a_crash_or_a_hang(string shape, byte[] message)
    {
        var (scan, answers) = Read(message);
        Assert.True(scan == NameScan.Malformed, $"{shape}: {scan}");
        Assert.DoesNotContain(answers, a => a.Address.ToString() == "192.0.2.2");
    }

    [Fact]
    public void Every_truncation_of_a_response_is_read_or_refused_without_throwing()
    {
        var m = DnsBytes.Response("www.example.com", 1, 2).Pointer(QuestionAt).Cname(60, "cdn.example.net").Name("cdn.example.net").A(20, "192.0.2.9").ToArray();
        Assert.Equal(2, Read(m).Answers.Count);
        for (int length = 0; length < m.Length; length++)
        {
            var (scan, _) = Read(m[..length]);
            Assert.True(scan is NameScan.Malformed, $"cut at {length}: {scan}");
        }
    }

    [Fact]
    public void Random_and_mutated_messages_never_throw()
    {
        var random = new Random(23);
        var seed = DnsBytes.Response("www.example.com", 1, 2).Pointer(QuestionAt).Cname(60, "cdn.example.net").Pointer(QuestionAt + 17).A(20, "192.0.2.9").ToArray();
        var answers = new List<DnsAnswer>();
        for (int i = 0; i < 200_000; i++)
        {
            byte[] m;
            if (i % 2 == 0)
            {
                m = (byte[])seed.Clone();
                for (int flips = random.Next(1, 6); flips > 0; flips--) m[random.Next(m.Length)] = (byte)random.Next(256);
            }
            else
            {
                m = new byte[random.Next(0, 200)];
                random.NextBytes(m);
                if (m.Length > 3) m[2] |= 0x80;
            }
            answers.Clear();
            DnsResponse.Read(m, answers);
            DnsResponse.IsQuery(m);
            Assert.All(answers, a => Assert.True(a.Query.Length > 0 && a.Name.Length > 0));
        }
    }
}
