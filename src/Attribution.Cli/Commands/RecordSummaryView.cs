using Attribution.Recorder;
using Spectre.Console;

namespace Attribution.Cli.Commands;

/// <summary>The closing summary of a recording, as a table on standard error (stdout stays clean for scripts).</summary>
public static class RecordSummaryView
{
    public static void Print(RecordSummary s)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var table = new Table().Border(TableBorder.Simple).AddColumn("recorded").AddColumn(new TableColumn("").RightAligned());
        if (!s.SnapshotsOnly)
        {
            if (s.Written == s.Packets && s.CaptureError is null) table.AddRow("packets", $"{s.Packets:N0}");
            else
            {
                table.AddRow("packets captured", $"{s.Packets:N0}");
                table.AddRow("packets written to the capture", $"{s.Written:N0}");
            }
            table.AddRow("bytes (on the wire)", $"{s.Bytes:N0}");
            table.AddRow("dropped by the kernel", $"{s.KernelDrops:N0}");
            table.AddRow("dropped by the interface", $"{s.InterfaceDrops:N0}");
        }
        table.AddRow("snapshots on timer", $"{s.TimerSnapshots:N0}");
        table.AddRow("snapshots on new flows", $"{s.TriggeredSnapshots:N0}");
        if (s.FloodSnapshots > 0)
            table.AddRow("of them for floods (newest flows)", $"{s.FloodSnapshots:N0} ({s.FlowsPassedOver:N0} passed over)");
        if (s.TriggerDelayPercentileMs(0.5) is { } median)
            table.AddRow("new flow -> snapshot done (median / p95)", $"{median:F1} ms / {s.TriggerDelayPercentileMs(0.95):F1} ms");
        table.AddRow("own namespace read through", s.UsedSockDiag ? "sock_diag netlink" : "/proc/net text");
        table.AddRow("kernel events", s.KernelEventsOn ? $"{s.KernelEvents:N0}" : "off");
        if (s.KernelEventsOn) table.AddRow("kernel events lost", $"{s.KernelEventsLost:N0}");
        if (s.SocketIoMaxPeriod > 1)
            table.AddRow("sends/receives sampled (busy stream)", $"1 in up to {s.SocketIoMaxPeriod:N0} for {s.SocketIoThinned.TotalSeconds:F1} s");
        table.AddRow("duration", $"{s.Elapsed.TotalSeconds:F1} s");
        console.Write(table);
        // Paths stay whole on their own lines: a table would wrap them at the terminal width.
        if (s.RingFiles is { } ring)
        {
            int deleted = s.FilesWritten - ring.Count;
            Console.Error.WriteLine($"ring buffer: {s.FilesWritten:N0} capture files written, {ring.Count:N0} kept" +
                                    (deleted > 0 ? $" ({deleted:N0} oldest deleted with their sidecars)" : "") + ":");
            foreach (var f in ring)
                Console.Error.WriteLine($"capture:   {f.CapturePath} ({f.CaptureBytes:N0} bytes), snapshots {f.SidecarBytes:N0} bytes");
        }
        else
        {
            if (!s.SnapshotsOnly) Console.Error.WriteLine($"capture:   {s.CapturePath} ({s.CaptureBytes:N0} bytes)");
            Console.Error.WriteLine($"snapshots: {s.SidecarPath} ({s.SidecarBytes:N0} bytes)");
        }
        if (s.KernelEventsProblem is not null) Console.Error.WriteLine($"kernel events: {s.KernelEventsProblem}");
        if (s.OversizedRecords > 0)
            Console.Error.WriteLine($"snapshots: {s.OversizedRecords:N0} records larger than a reader accepts " +
                                    $"({Core.Sidecar.SidecarFraming.MaxTablePayloadLength >> 20} MiB for a table, " +
                                    $"{Core.Sidecar.SidecarFraming.MaxRecordPayloadLength >> 20} MiB for any other record) were not written " +
                                    "(socket or conntrack tables of a very large host); the snapshots that refer to them are incomplete " +
                                    "(docs/FORMAT.md, Robustness)");
    }
}
