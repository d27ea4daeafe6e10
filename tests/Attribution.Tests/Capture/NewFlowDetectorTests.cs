using Attribution.Core.Decoding;
using Attribution.Core.Sockets;
using Attribution.Recorder.Capture;

namespace Attribution.Tests.Capture;

/// <summary>
/// The recorder's new-flow detector keeps 64-bit fingerprints, not keys: each field of a flow must move its
/// fingerprint, the two directions of one flow must not, and a flow is new once (a TCP SYN every time).
/// </summary>
public class NewFlowDetectorTests
{
    private static DecodedPacket Udp(string source, ushort sourcePort, string destination, ushort destinationPort, byte protocol = IpProtocol.Udp) => new()
    {
        IpVersion = 4,
        Protocol = protocol,
        Source = IpAddr.Parse(source),
        Destination = IpAddr.Parse(destination),
        SourcePort = sourcePort,
        DestinationPort = destinationPort,
    };

    [Fact]
    public void EveryFieldMovesTheFingerprintAndDirectionDoesNot()
    {
        var flow = Udp("10.0.0.1", 1000, "10.0.0.2", 53);
        var variants = new[]
        {
            flow,
            Udp("10.0.0.3", 1000, "10.0.0.2", 53),
            Udp("10.0.0.1", 1001, "10.0.0.2", 53),
            Udp("10.0.0.1", 1000, "10.0.0.4", 53),
            Udp("10.0.0.1", 1000, "10.0.0.2", 54),
            Udp("10.0.0.1", 1000, "10.0.0.2", 53, IpProtocol.Tcp),
            Udp("fd00::1", 1000, "fd00::2", 53),
            Udp("fd00::1:0:0:1", 1000, "fd00::2", 53), // from the one before: only in the address's lower 64 bits
            Udp("fd01::1", 1000, "fd00::2", 53),       // from the one before that: only in its upper 64 bits
        };
        var prints = variants.Select(p => NewFlowDetector.Fingerprint(FlowKey.From(p))).ToList();
        Assert.Equal(prints.Count, prints.Distinct().Count());
        Assert.Equal(prints[0], NewFlowDetector.Fingerprint(FlowKey.From(Udp("10.0.0.2", 53, "10.0.0.1", 1000))));
    }

    [Fact]
    public void AFlowIsNewOnceInEitherDirection()
    {
        var detector = new NewFlowDetector();
        var there = Udp("10.0.0.1", 1000, "10.0.0.2", 53);
        var back = Udp("10.0.0.2", 53, "10.0.0.1", 1000);
        var other = Udp("10.0.0.1", 1001, "10.0.0.2", 53);
        Assert.True(detector.IsNew(there, out var ends));
        Assert.Equal(1000, ends.SourcePort);
        Assert.False(detector.IsNew(back, out _));
        Assert.False(detector.IsNew(there, out _));
        Assert.True(detector.IsNew(other, out _));
        Assert.False(detector.IsNew(there, out _));
    }

    [Fact]
    public void WhenFullItStartsOver()
    {
        var detector = new NewFlowDetector(capacity: 2);
        var a = Udp("10.0.0.1", 1, "10.0.0.2", 53);
        Assert.True(detector.IsNew(a, out _));
        Assert.True(detector.IsNew(Udp("10.0.0.1", 2, "10.0.0.2", 53), out _));
        Assert.True(detector.IsNew(Udp("10.0.0.1", 3, "10.0.0.2", 53), out _)); // the set was full: forgotten, then added
        Assert.True(detector.IsNew(a, out _));                                 // forgotten with the rest
    }
}
