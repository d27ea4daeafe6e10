using System.Runtime.InteropServices;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Attribution.Recorder.Capture;

/// <summary>
/// One libpcap handle and the thread that drains it. pcap_next_ex hands us libpcap's own header
/// and buffer: no RawCapture, no copy, and the header's `len` is the original wire length (SharpPcap's
/// RawCapture.PacketLength would give the captured length). Called directly on the raw handle, which the
/// thread holds a reference on while it runs (SharpPcap's GetNextPacketPointers took one per packet).
/// </summary>
internal sealed class CaptureSource : IDisposable
{
    private readonly LibPcapLiveDevice _device;
    private readonly CaptureSink _sink;
    private readonly bool _nanosecond;
    private Thread? _thread;
    private volatile bool _stopping;
    private uint _lastReceived, _lastDropped, _lastIfDropped;
    private ulong _received, _dropped, _ifDropped;

    public int InterfaceId { get; }
    public int LinkType { get; }
    public string Name => _device.Name;
    public string? Error { get; private set; }

    [StructLayout(LayoutKind.Sequential)]
    private struct PcapPacketHeader
    {
        public long Seconds;
        public long Fraction; // microseconds, or nanoseconds when opened with nanosecond precision
        public uint CaptureLength;
        public uint Length;
    }

    public CaptureSource(LibPcapLiveDevice device, CaptureSink sink, int snaplen)
    {
        _device = device;
        _sink = sink;
        _nanosecond = device.TimestampResolution == TimestampResolution.Nanosecond;
        LinkType = Native.LibPcap.LinkType(device);
        InterfaceId = sink.AddInterface(device.Name, LinkType, snaplen, device.Description ?? device.Name);
    }

    public void Start(Action<CaptureSource> onEnded)
    {
        _thread = new Thread(() => { Run(); onEnded(this); }) { IsBackground = true, Name = $"capture {Name}" };
        _thread.Start();
    }

    private unsafe void Run()
    {
        // One reference on the handle for the whole run (pcap_close waits for its release), rather than one per packet.
        var handle = _device.Handle;
        bool referenced = false;
        try
        {
            handle.DangerousAddRef(ref referenced);
        }
        catch (ObjectDisposedException e) { Error = $"{Name}: capture ended ({e.Message})"; return; }
        try { Drain(handle.DangerousGetHandle()); }
        finally { if (referenced) handle.DangerousRelease(); }
    }

    private unsafe void Drain(nint pcap)
    {
        bool draining = false;
        while (true)
        {
            int result = Native.LibPcap.pcap_next_ex(pcap, out nint header, out nint data);
            if (result == 0)
            {
                if (draining) return; // the ring is empty: every packet the kernel kept is written
                continue;             // read timeout: look again
            }
            if (result < 0)
            {
                if (!_stopping) { Error = $"{Name}: capture ended ({_device.LastError})"; return; }
                if (draining) return;
                // Stopped (pcap_breakloop): the ring may still hold packets the kernel accepted. Read them
                // without blocking until it is empty, so a stop loses nothing the kernel counted as received.
                draining = true;
                try { _device.NonBlockingMode = true; }
                catch (PcapException e) { Error = e.Message; return; }
                continue;
            }
            ref var h = ref *(PcapPacketHeader*)header;
            long ns = h.Seconds * 1_000_000_000L + (_nanosecond ? h.Fraction : h.Fraction * 1000);
            try
            {
                _sink.Deliver(InterfaceId, LinkType, ns, new ReadOnlySpan<byte>((void*)data, (int)h.CaptureLength), h.Length);
            }
            catch (IOException e)
            {
                Error = $"cannot write the capture file: {e.Message}";
                return;
            }
        }
    }

    /// <summary>
    /// libpcap's counters are 32-bit and wrap; they are widened here by adding the difference each time
    /// they are read, so they must be read more often than 2^32 packets arrive.
    /// </summary>
    public (ulong Received, ulong Dropped, ulong InterfaceDropped) ReadKernelCounters()
    {
        try
        {
            var s = _device.Statistics;
            _received += unchecked(s.ReceivedPackets - _lastReceived);
            _dropped += unchecked(s.DroppedPackets - _lastDropped);
            _ifDropped += unchecked(s.InterfaceDroppedPackets - _lastIfDropped);
            (_lastReceived, _lastDropped, _lastIfDropped) = (s.ReceivedPackets, s.DroppedPackets, s.InterfaceDroppedPackets);
        }
        catch (PcapException)
        {
            // the handle is closing; keep the last values
        }
        return (_received, _dropped, _ifDropped);
    }

    public void Stop()
    {
        _stopping = true;
        Native.LibPcap.BreakLoop(_device);
        _thread?.Join();
    }

    public void Dispose() => _device.Close();
}
