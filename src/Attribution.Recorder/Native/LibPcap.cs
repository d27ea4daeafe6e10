using System.Runtime.InteropServices;
using SharpPcap.LibPcap;

namespace Attribution.Recorder.Native;

/// <summary>
/// Three libpcap calls SharpPcap 6.3.1 does not make for us: choosing the link type after activation (its
/// DeviceConfiguration.LinkLayerType is not applied on Linux: "any" stays SLL), reading it back, and waking a
/// handle blocked in pcap_next_ex so a capture thread can stop at once.
/// </summary>
internal static partial class LibPcap
{
    private const string Library = "libpcap.so.0.8"; // Debian's libpcap0.8 package; the same ABI as libpcap 1.x

    [LibraryImport(Library)]
    private static partial int pcap_set_datalink(nint handle, int linkType);

    [LibraryImport(Library)]
    private static partial void pcap_breakloop(nint handle);

    [LibraryImport(Library)]
    private static partial int pcap_datalink(nint handle);

    public static bool TrySetLinkType(PcapDevice device, int linkType) =>
        pcap_set_datalink(device.Handle.DangerousGetHandle(), linkType) == 0;

    /// <summary>The handle's link type as libpcap has it now (SharpPcap's LinkType is cached from before any change).</summary>
    public static int LinkType(PcapDevice device) => pcap_datalink(device.Handle.DangerousGetHandle());

    public static void BreakLoop(PcapDevice device) => pcap_breakloop(device.Handle.DangerousGetHandle());
}
