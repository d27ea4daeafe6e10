using System.Runtime.InteropServices;
using SharpPcap.LibPcap;

namespace Attribution.Recorder.Native;

/// <summary>
/// Libpcap calls SharpPcap 6.3.1 does not make for us (or makes at a cost per packet): choosing the link type after activation (its
/// DeviceConfiguration.LinkLayerType is not applied on Linux: "any" stays SLL), reading it back, and waking a
/// handle blocked in pcap_next_ex so a capture thread can stop at once; and pcap_next_ex itself.
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

    /// <summary>
    /// pcap_next_ex on a raw handle: SharpPcap's GetNextPacketPointers takes and releases the SafeHandle's reference on every
    /// packet; the capture thread holds one reference for its whole run instead (<see cref="Capture.CaptureSource"/>).
    /// </summary>
    [LibraryImport(Library)]
    public static partial int pcap_next_ex(nint handle, out nint header, out nint data);

    public static bool TrySetLinkType(PcapDevice device, int linkType) =>
        pcap_set_datalink(device.Handle.DangerousGetHandle(), linkType) == 0;

    /// <summary>The handle's link type as libpcap has it now (SharpPcap's LinkType is cached from before any change).</summary>
    public static int LinkType(PcapDevice device) => pcap_datalink(device.Handle.DangerousGetHandle());

    public static void BreakLoop(PcapDevice device) => pcap_breakloop(device.Handle.DangerousGetHandle());
}
