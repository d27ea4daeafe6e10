using Attribution.Analyzer.Results;
using Attribution.Analyzer.Session;
using Attribution.Core.Linux;
using Spectre.Console;

namespace Attribution.Cli.Commands;

/// <summary>The closing summary of an analysis, on standard error.</summary>
public static class AnalyzeSummaryView
{
    public static void Print(AnalyzeSummary s) => Print(s, Console.Error);

    public static void Print(AnalyzeSummary s, TextWriter error)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(error) });
        var totals = new Table().Border(TableBorder.Simple).AddColumn("analyzed").AddColumn(new TableColumn("").RightAligned());
        totals.AddRow("packets", $"{s.Packets:N0}");
        totals.AddRow("bytes (on the wire)", $"{s.Bytes:N0}");
        totals.AddRow("attributed, by packets", $"{s.PacketShare:P1}");
        totals.AddRow("attributed, by bytes", $"{s.ByteShare:P1}");
        totals.AddRow("flows", $"{s.Flows:N0}");
        totals.AddRow("processes in the evidence", $"{s.Processes:N0}");
        totals.AddRow("snapshots", $"{s.Snapshots:N0}");
        totals.AddRow("time taken", $"{s.Elapsed.TotalSeconds:F2} s");
        console.Write(totals);

        if (s.TopProcesses.Count > 0)
        {
            // The container column only when one of them ran in a container: "web-1 (3f1c2a9d8e7b, docker)", or
            // "3f1c2a9d8e7b (docker)" where the recording has no name for it.
            bool containers = s.TopProcesses.Any(p => p.Container is not null);
            var top = new Table().Border(TableBorder.Simple).AddColumn("top processes").AddColumn("pid");
            if (containers) top.AddColumn("container");
            top.AddColumn(new TableColumn("bytes out").RightAligned()).AddColumn(new TableColumn("bytes in").RightAligned());
            // The names of the far ends, only when the capture gave some: "api.example.com, cdn.example.net +2".
            bool names = s.TopProcesses.Any(p => p.RemoteNames.Count > 0);
            if (names) top.AddColumn("talked to");
            foreach (var p in s.TopProcesses)
            {
                // A comm is whatever a process set with prctl: control bytes in it are escaped (RawText), so a
                // process cannot forge lines or terminal sequences in the summary a responder reads.
                string comm = Markup.Escape(Printable(p.CommRaw, p.Comm));
                if (p.WasComm is not null) comm += Markup.Escape($" (was {Printable(p.WasCommRaw, p.WasComm)})"); // renamed since its start
                string[] who = containers ? [comm, p.Pid.ToString(), Markup.Escape(RawText.Printable(p.Container?.ToString() ?? ""))]
                    : [comm, p.Pid.ToString()];
                string[] row = [.. who, $"{p.BytesOut:N0}", $"{p.BytesIn:N0}"];
                top.AddRow(names ? [.. row, Markup.Escape(NamesText(p))] : row);
            }
            console.Write(top);
            // Who started each: its chain of parents, with logins, users and units where they change (processes.chain).
            foreach (var p in s.TopProcesses.Where(p => p.Chain is not null))
                error.WriteLine($"  {RawText.Printable(p.Chain!)}");
        }
        if (s.Unattributed.Count > 0)
        {
            var reasons = new Table().Border(TableBorder.Simple).AddColumn("unattributed, by reason")
                .AddColumn(new TableColumn("packets").RightAligned()).AddColumn(new TableColumn("bytes").RightAligned());
            foreach (var (reason, (packets, bytes)) in s.Unattributed.OrderByDescending(u => u.Value.Bytes))
                reasons.AddRow(reason.Name() ?? "?", $"{packets:N0}", $"{bytes:N0}");
            console.Write(reasons);
        }
        error.WriteLine($"evidence: {s.Evidence}");
        if (s.Verified is not null) error.WriteLine($"verified: {s.Verified}");
        error.WriteLine($"written: {s.OutputPath}");
    }

    /// <summary>A stranger's names, escaped for the terminal (bytes outside printable text are \xNN already: NameText).</summary>
    private static string NamesText(ProcessShare p) =>
        RawText.Printable(string.Join(", ", p.RemoteNames)) + (p.MoreRemoteNames > 0 ? $" +{p.MoreRemoteNames}" : "");

    /// <summary>A comm for the terminal, from its bytes where known (escaped once, not re-escaped from their text).</summary>
    private static string Printable(byte[]? raw, string? text) => raw is not null ? RawText.Printable(raw) : RawText.Printable(text ?? "?");
}
