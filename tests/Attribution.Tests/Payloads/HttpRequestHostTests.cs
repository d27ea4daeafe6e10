using System.Text;
using Attribution.Analyzer.Payloads;

namespace Attribution.Tests.Payloads;

/// <summary>The Host of HTTP/1.x requests (RFC 9112 §3.2), as clients write them, and of streams that are not requests.</summary>
public class HttpRequestHostTests
{
    private static (NameScan, string?) Scan(string stream) => (HttpRequestHost.Scan(Encoding.Latin1.GetBytes(stream), out var name), name);

    [Theory]
    [InlineData("GET /x HTTP/1.1\r\nHost: www.example.com\r\nAccept: */*\r\n\r\n", "www.example.com")]
    [InlineData("POST /api HTTP/1.1\r\nUser-Agent: curl/8\r\nhOsT:\tapi.example.com:8443 \r\n\r\n", "api.example.com")]
    [InlineData("GET / HTTP/1.0\nHost: [::1]:8080\n\n", "[::1]")]
    [InlineData("HEAD * HTTP/1.1\r\nHost: evil\u00ff.example\r\n\r\n", "evil\\xff.example")]
    public void The_host_of_a_request_without_its_port(string request, string host)
    {
        Assert.Equal((NameScan.Found, host), Scan(request));
    }

    [Theory]
    [InlineData("GET http://origin.example/ HTTP/1.1\r\nHost: origin.example\r\n\r\n")] // to a proxy: the origin is not the far end
    [InlineData("CONNECT origin.example:443 HTTP/1.1\r\nHost: origin.example:443\r\n\r\n")]
    [InlineData("GET / HTTP/1.0\r\nAccept: */*\r\n\r\n")]
    public void Requests_through_a_proxy_or_without_host_name_nothing(string request)
    {
        Assert.Equal((NameScan.Absent, null), Scan(request));
    }

    [Theory]
    [InlineData("SSH-2.0-OpenSSH\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n")]
    [InlineData("GET /x SMTP/1.0\r\n\r\n")]
    public void Other_streams_are_not_requests(string stream)
    {
        Assert.Equal(NameScan.NotThis, Scan(stream).Item1);
    }

    [Fact]
    public void A_head_split_over_segments_wants_more_and_an_endless_one_stops()
    {
        const string request = "GET /a HTTP/1.1\r\nUser-Agent: x\r\nHost: split.example\r\n\r\n";
        for (int cut = 1; cut < request.IndexOf("Host") + 6; cut++)
            Assert.Equal(NameScan.NeedMore, Scan(request[..cut]).Item1);
        Assert.Equal(NameScan.Malformed, Scan("GET /a HTTP/1.1\r\nX: " + new string('a', 9000)).Item1);
        Assert.Equal(NameScan.Malformed, Scan("GET /a HTTP/1.1\r\nHost: \r\n\r\n").Item1);
        Assert.Equal(NameScan.Malformed, Scan("GET /a HTTP/1.1\r\nHost: " + new string('a', 256) + "\r\n\r\n").Item1);
    }

    [Fact]
    public void Random_streams_never_throw()
    {
        var random = new Random(9112);
        var seed = Encoding.ASCII.GetBytes("GET /a HTTP/1.1\r\nHost: seed.example:80\r\n\r\n");
        for (int i = 0; i < 100_000; i++)
        {
            var s = (byte[])seed.Clone();
            for (int flips = random.Next(1, 4); flips > 0; flips--) s[random.Next(s.Length)] = (byte)random.Next(256);
            var scan = HttpRequestHost.Scan(s.AsSpan(0, random.Next(s.Length + 1)), out var name);
            Assert.Equal(scan == NameScan.Found, name is not null);
        }
    }
}
