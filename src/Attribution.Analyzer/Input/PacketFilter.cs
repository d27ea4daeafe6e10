using Attribution.Analyzer.Errors;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Attribution.Analyzer.Input;

/// <summary>
/// A tcpdump-style BPF filter (`'port 443'`) applied to the frames of a capture file: libpcap compiles it
/// (pcap_compile on a dead handle of the frame's link type, through SharpPcap, as the recorder's capture
/// filter is) and runs it (pcap_offline_filter). One program per link type, compiled on first use, since
/// a pcapng's interfaces may differ. A filter libpcap rejects is a usage error naming it.
/// </summary>
public sealed class PacketFilter(string expression) : IDisposable
{
    private readonly Dictionary<int, BpfProgram> _programs = new();

    public string Expression => expression;

    public bool Matches(int linkType, ReadOnlySpan<byte> frame)
    {
        if (!_programs.TryGetValue(linkType, out var program)) _programs[linkType] = program = Compile(linkType);
        return program.Matches(frame);
    }

    private BpfProgram Compile(int linkType)
    {
        try
        {
            return BpfProgram.Create((PacketDotNet.LinkLayers)linkType, expression);
        }
        catch (Exception e) when (e is PcapException or DllNotFoundException)
        {
            throw new AnalyzeError(AnalyzeFailure.Filter, $"bad filter '{expression}' (link type {linkType}): {e.Message}");
        }
    }

    /// <summary>Compiles for a link type now, so a bad expression is refused before any work.</summary>
    public void Check(int linkType) => Matches(linkType, ReadOnlySpan<byte>.Empty);

    public void Dispose()
    {
        foreach (var p in _programs.Values) p.Dispose();
    }
}
