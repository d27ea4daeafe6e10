using Attribution.Analyzer.Payloads;

namespace Attribution.Tests.Payloads;

/// <summary>The server name of ClientHellos as clients send them: whole, split over segments and records, and lying.</summary>
public class TlsClientHelloTests
{
    private static (NameScan, string?) Scan(byte[] stream) => (TlsClientHello.Scan(stream, out var name), name);

    [Fact]
    public void The_server_name_of_a_clienthello_in_one_record()
    {
        Assert.Equal((NameScan.Found, "update-check.evil.example"), Scan(TlsBytes.Records(TlsBytes.Hello("update-check.evil.example"))));
    }

    [Fact]
    public void A_clienthello_split_over_segments_wants_more_until_its_name_has_come()
    {
        // A post-quantum key share (1 216 bytes of ML-KEM) before the name: the hello spans two 1 448-byte segments.
        var stream = TlsBytes.Records(TlsBytes.Hello("split.example", padding: 1500, sniLast: true));
        Assert.Equal((NameScan.NeedMore, null), Scan(stream[..1448]));
        Assert.Equal((NameScan.Found, "split.example"), Scan(stream));
        for (int cut = 1; cut < stream.Length; cut++)
            Assert.Equal(NameScan.NeedMore, TlsClientHello.Scan(stream.AsSpan(0, cut), out _));
    }

    [Fact]
    public void A_clienthello_split_over_records_is_joined()
    {
        var stream = TlsBytes.Records(TlsBytes.Hello("records.example", padding: 600, sniLast: true), perRecord: 200);
        Assert.Equal((NameScan.Found, "records.example"), Scan(stream));
        Assert.Equal(NameScan.NeedMore, TlsClientHello.Scan(stream.AsSpan(0, 500), out _));
    }

    [Fact]
    public void Without_a_server_name_or_without_extensions_it_is_absent()
    {
        Assert.Equal((NameScan.Absent, null), Scan(TlsBytes.Records(TlsBytes.Hello(null))));
        Assert.Equal((NameScan.Absent, null), Scan(TlsBytes.Records(TlsBytes.Hello(null, extensions: false))));
    }

    [Fact]
    public void Other_streams_are_not_tls_clienthellos()
    {
        var serverHello = TlsBytes.Records(TlsBytes.Hello("x"));
        serverHello[5] = 2;
        Assert.Equal(NameScan.NotThis, TlsClientHello.Scan(serverHello, out _));
        Assert.Equal(NameScan.NotThis, TlsClientHello.Scan("GET / HTTP/1.1\r\n"u8, out _));
        Assert.Equal(NameScan.NotThis, TlsClientHello.Scan("SSH-2.0-OpenSSH_9.6\r\n"u8, out _));
    }

    public static TheoryData<string, byte[]> Lying()
    {
        var hugeHello = TlsBytes.Records(TlsBytes.Hello("a.test"));
        hugeHello[6] = 0xFF; hugeHello[7] = 0xFF; hugeHello[8] = 0xFF; // 16 MB claimed
        var hugeRecord = TlsBytes.Records(TlsBytes.Hello("a.test"));
        hugeRecord[3] = 0xFF; hugeRecord[4] = 0xFF;
        var extensionPast = TlsBytes.Hello("a.test");
        int extensions = 4 + 2 + 32 + 1 + 32 + 2 + 6 + 2;              // where the extensions' length is
        extensionPast[extensions + 2 + 2] = 0x7F;                      // the server_name extension claims 32 KB
        var nameTooLong = TlsBytes.Hello(new string('a', 300));
        var shortHello = TlsBytes.Hello("a.test");
        shortHello[3] -= 10;                                          // claims less than its extensions need
        return new()
        {
            { "a 16 MB ClientHello", hugeHello },
            { "a record over 18 KB", hugeRecord },
            { "an extension past the hello", TlsBytes.Records(extensionPast) },
            { "a server name of 300 bytes", TlsBytes.Records(nameTooLong) },
            { "a hello shorter than its fields", TlsBytes.Records(shortHello) },
        };
    }

    [Theory]
    [MemberData(nameof(Lying))]
    public void A_lying_clienthello_is_malformed(string shape, byte[] stream)
    {
        Assert.True(TlsClientHello.Scan(stream, out var name) == NameScan.Malformed, shape);
        Assert.Null(name);
    }

    [Fact]
    public void Random_and_mutated_streams_never_throw()
    {
        var random = new Random(8446);
        var seeds = new[] { TlsBytes.Records(TlsBytes.Hello("seed.example")), TlsBytes.Records(TlsBytes.Hello("s.example", padding: 900), perRecord: 300) };
        for (int i = 0; i < 200_000; i++)
        {
            byte[] s;
            if (i % 3 != 2)
            {
                s = (byte[])seeds[i % 2].Clone();
                for (int flips = random.Next(1, 5); flips > 0; flips--) s[random.Next(s.Length)] = (byte)random.Next(256);
                s = s[..random.Next(s.Length + 1)];
            }
            else
            {
                s = new byte[random.Next(0, 300)];
                random.NextBytes(s);
                if (s.Length > 5) { s[0] = 22; s[1] = 3; s[2] = 1; s[5] = 1; }
            }
            var scan = TlsClientHello.Scan(s, out var name);
            Assert.Equal(scan == NameScan.Found, name is not null);
        }
    }
}
