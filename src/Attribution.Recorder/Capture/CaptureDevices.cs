using SharpPcap;
using SharpPcap.LibPcap;

namespace Attribution.Recorder.Capture;

/// <summary>Finds and opens the capture interfaces, turning libpcap's failures into messages a responder can act on.</summary>
internal static class CaptureDevices
{
    public const string AnyInterface = "any";

    public static List<LibPcapLiveDevice> Open(IReadOnlyList<string> names, int snaplen, string? filter, int kernelBufferBytes)
    {
        var all = LibPcapLiveDeviceList.New();
        var opened = new List<LibPcapLiveDevice>();
        try
        {
            foreach (var name in names)
            {
                var device = all.FirstOrDefault(d => d.Name == name)
                    ?? throw new RecordError(RecordFailure.Capture,
                        $"no capture interface named '{name}'; available: {string.Join(", ", all.Select(d => d.Name))}");
                var config = new DeviceConfiguration
                {
                    Snaplen = snaplen,
                    // Not libpcap's immediate mode: at high packet rates it lost packets that the kernel never
                    // counted as dropped (docs/RECORDING.md, Capture buffering). A 2 ms buffer timeout instead
                    // delivers a new flow's first packet within 2 ms and loses none.
                    ReadTimeout = 2,
                    Immediate = false,
                    BufferSize = kernelBufferBytes,
                    TimestampResolution = TimestampResolution.Nanosecond,
                };
                try
                {
                    device.Open(config);
                }
                catch (Exception e) when (e is PcapException or DllNotFoundException)
                {
                    throw new RecordError(RecordFailure.Capture, $"cannot open interface '{name}': {e.Message}");
                }
                opened.Add(device);
                // On "any", ask for SLL2: unlike SLL it keeps the interface index (and the direction). Older
                // libpcap (< 1.10) lacks it and keeps SLL, which the analyzer reads too.
                if (name == AnyInterface) Native.LibPcap.TrySetLinkType(device, Core.Decoding.LinkType.LinuxSll2);
                if (!string.IsNullOrWhiteSpace(filter))
                {
                    try { device.Filter = filter; }
                    catch (PcapException e)
                    {
                        throw new RecordError(RecordFailure.Capture, $"bad capture filter '{filter}': {e.Message}");
                    }
                }
            }
            return opened;
        }
        catch
        {
            foreach (var device in opened) device.Close();
            throw;
        }
    }
}
