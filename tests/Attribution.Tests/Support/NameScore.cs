using System.Text;

namespace Attribution.Tests.Support;

/// <summary>
/// Scores the names an analysis shows for one end of a case's packets against the name the process had at each
/// packet's time (issue 27: a process that renames itself, or rewrites its argv as a process title, is shown as
/// it was called when it sent or received). Only ends attributed to their expected pid count: the pid itself is
/// <see cref="AttributionScore"/>'s to score. The name shown is the one the analysis says the process had at the packet's
/// time (the packet_names view over process_names): its comm and command line (cmdline_raw, its arguments split at
/// NULs, the NULs that pad a rewritten title dropped).
/// </summary>
public static class NameScore
{
    /// <summary>What a process was called: its comm and its arguments.</summary>
    public sealed record Name(string Comm, IReadOnlyList<string> Args)
    {
        public override string ToString() => $"comm '{Comm}', args '{string.Join(' ', Args)}'";
    }

    /// <summary>The name one end must show: its pid and its name at that packet's time; null for an end not scored.</summary>
    public sealed record Expected(int Pid, Name Name);

    /// <summary>
    /// Prints the bytes shown under the right name and under each wrong one; returns failures (no byte scored, or
    /// any shown under a name the process did not have then).
    /// </summary>
    public static List<string> Check(string db, string caseName, int serverPort, bool serverEnd,
        Func<AttributionScore.Packet, Expected?> expected, Action<string> print)
    {
        var rows = Db.Query(db, """
            SELECT k.frame, k.length, k.src_port, k.dst_port, k.ts_ns, s.pid, n.src_comm, n.src_cmdline_raw, d.pid, n.dst_comm, n.dst_cmdline_raw
            FROM packets k JOIN packet_names n ON n.frame = k.frame
            LEFT JOIN processes s ON s.id = k.src_process_id LEFT JOIN processes d ON d.id = k.dst_process_id
            WHERE k.proto = 'tcp' AND (k.src_port = $port OR k.dst_port = $port)
            """, ("$port", serverPort));
        long right = 0, total = 0;
        var wrongBy = new Dictionary<string, long>();
        foreach (var row in rows)
        {
            long length = (long)row[1]!;
            bool fromServer = (long)row[2]! == serverPort;
            var packet = new AttributionScore.Packet((long)row[0]!, length, (int)(long)(fromServer ? row[3]! : row[2]!), fromServer, (long)row[4]!);
            if (expected(packet) is not { } want) continue;
            int at = fromServer == serverEnd ? 5 : 8; // the scored end is the packet's source when it sent the packet
            if ((long?)row[at] != want.Pid) continue;
            var shown = new Name((string?)row[at + 1] ?? "", ArgsOf(row[at + 2] as byte[]));
            total += length;
            if (shown.Comm == want.Name.Comm && shown.Args.SequenceEqual(want.Name.Args)) right += length;
            else
            {
                var key = $"shown as {shown} while it was {want.Name}";
                wrongBy[key] = wrongBy.GetValueOrDefault(key) + length;
            }
        }
        string end = serverEnd ? "server" : "client";
        print($"{caseName}, {end} end's names: {(total == 0 ? 0 : (double)right / total):P2} of {total:N0} bytes under the name in force"
              + string.Concat(wrongBy.OrderByDescending(w => w.Value).Select(w => $"\n    {w.Value:N0} bytes {w.Key}")));
        var failures = new List<string>();
        if (total == 0) failures.Add($"{caseName}: no {end}-end byte attributed to its process, so no name to check");
        foreach (var (key, bytes) in wrongBy) failures.Add($"{caseName}: {bytes:N0} {end}-end bytes {key}");
        return failures;
    }

    /// <summary>/proc/PID/cmdline's arguments: split at NULs, without the NULs that end it (a rewritten title pads with them).</summary>
    public static IReadOnlyList<string> ArgsOf(byte[]? raw)
    {
        if (raw is null) return [];
        int end = raw.Length;
        while (end > 0 && raw[end - 1] == 0) end--;
        return end == 0 ? [] : Encoding.UTF8.GetString(raw, 0, end).Split('\0');
    }
}
