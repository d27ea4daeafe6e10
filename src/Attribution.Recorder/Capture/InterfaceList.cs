using SharpPcap.LibPcap;

namespace Attribution.Recorder.Capture;

/// <summary>`record -D`: the interfaces libpcap can capture on, numbered and flagged as tcpdump -D lists them.</summary>
public static class InterfaceList
{
    // pcap_if_t flags (pcap/pcap.h).
    private const uint Loopback = 0x1, Up = 0x2, Running = 0x4, Wireless = 0x8, ConnectionStatus = 0x30,
        Connected = 0x10, Disconnected = 0x20, NotApplicable = 0x30;

    public static IEnumerable<string> Lines()
    {
        int n = 0;
        foreach (var d in LibPcapLiveDeviceList.New())
        {
            var flags = new List<string>();
            uint f = d.Flags;
            if ((f & Up) != 0) flags.Add("Up");
            if ((f & Running) != 0) flags.Add("Running");
            if ((f & Wireless) != 0) flags.Add("Wireless");
            if ((f & Loopback) != 0) flags.Add("Loopback");
            switch (f & ConnectionStatus)
            {
                case Connected: flags.Add("Connected"); break;
                case Disconnected: flags.Add("Disconnected"); break;
                case NotApplicable: break;
            }
            string description = string.IsNullOrEmpty(d.Description) ? "" : $" ({d.Description})";
            yield return $"{++n}.{d.Name}{description} [{string.Join(", ", flags)}]";
        }
    }
}
