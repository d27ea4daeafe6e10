namespace Attribution.Tests.Support;

/// <summary>
/// Scores an analysis against the owners a test knows: the bytes of a scenario's packets (found by the
/// server's port), counted once per local end, against the pid that owned that end. An end is right
/// when attributed to its expected pid, wrong when attributed to any pid it could not have been, and
/// neither when left unattributed.
/// </summary>
public static class AttributionScore
{
    /// <summary>
    /// Who owns one end of a packet. <see cref="Expected"/> is the pid that must get it (its bytes count in
    /// the share); null for an end the scenario does not score, whose attribution is only checked not to
    /// be wrong. <see cref="AlsoAcceptable"/>: pids that are not wrong for it either (a socket shared by two
    /// processes). An end with neither has no known owner: a fault of the test, counted apart.
    /// </summary>
    public readonly record struct Owner(int? Expected, IReadOnlyCollection<int>? AlsoAcceptable = null)
    {
        public static Owner Of(int pid) => new(pid);
        public static Owner Unknown => new(null);
    }

    /// <summary>A packet of the scenario: its wire length, the client's port, and whether the server sent it.</summary>
    public readonly record struct Packet(long Frame, long Length, int ClientPort, bool FromServer);

    /// <summary>
    /// A scenario: the server's port, and the owner of the server end and of the client end of each
    /// packet (usually by the client's port: which connection it belongs to).
    /// </summary>
    public sealed record Expectation(string Name, byte Protocol, int ServerPort, double Required,
        Func<Packet, Owner> ServerEnd, Func<Packet, Owner> ClientEnd)
    {
        /// <summary>One process owns the server end of every connection, one other the client end.</summary>
        public static Expectation Fixed(string name, byte protocol, int serverPort, int serverPid, int clientPid, double required) =>
            new(name, protocol, serverPort, required, _ => Owner.Of(serverPid), _ => Owner.Of(clientPid));
    }

    /// <summary>Bytes of local ends: <paramref name="Right"/> and <paramref name="Wrong"/> pid, <paramref name="Total"/> scored, <paramref name="Unknown"/> with no known owner.</summary>
    public sealed record Result(long Right, long Wrong, long Total, long Unknown, long Packets)
    {
        public double Share => Total == 0 ? 0 : (double)Right / Total;
    }

    public static Result Score(string db, Expectation e)
    {
        var rows = Db.Query(db, """
            SELECT k.frame, k.length, k.src_port, k.dst_port, s.pid, d.pid FROM packets k
            LEFT JOIN processes s ON s.id = k.src_process_id LEFT JOIN processes d ON d.id = k.dst_process_id
            WHERE k.proto = $proto AND (k.src_port = $port OR k.dst_port = $port)
            """, ("$proto", e.Protocol == 6 ? "tcp" : "udp"), ("$port", e.ServerPort));
        long right = 0, wrong = 0, total = 0, unknown = 0;
        foreach (var row in rows)
        {
            long length = (long)row[1]!;
            bool fromServer = (long)row[2]! == e.ServerPort;
            var packet = new Packet((long)row[0]!, length, (int)(long)(fromServer ? row[3]! : row[2]!), fromServer);
            var server = e.ServerEnd(packet);
            var client = e.ClientEnd(packet);
            foreach (var (attributed, owner) in new[] { ((long?)row[4] ?? 0, fromServer ? server : client),
                                                       ((long?)row[5] ?? 0, fromServer ? client : server) })
            {
                if (owner.Expected is null && owner.AlsoAcceptable is null) { unknown += length; continue; }
                if (owner.Expected is { } expected)
                {
                    total += length;
                    if (attributed == expected) { right += length; continue; }
                }
                if (attributed != 0 && owner.AlsoAcceptable?.Contains((int)attributed) != true) wrong += length;
            }
        }
        return new Result(right, wrong, total, unknown, rows.Count);
    }

    /// <summary>Scores every expectation, prints one line each, and returns what falls short: no traffic, an unknown owner, a wrong pid, a share under the floor.</summary>
    public static List<string> Check(string db, IEnumerable<Expectation> expectations, Action<string> print)
    {
        var failures = new List<string>();
        foreach (var e in expectations)
        {
            var r = Score(db, e);
            print($"{e.Name}: {r.Share:P2} of {r.Total:N0} end-bytes to the right pid ({r.Packets:N0} packets), {r.Wrong:N0} to a wrong one"
                  + (r.Unknown > 0 ? $", {r.Unknown:N0} with no known owner" : ""));
            if (r.Total == 0) failures.Add($"{e.Name}: no traffic captured");
            if (r.Unknown > 0) failures.Add($"{e.Name}: {r.Unknown} end-bytes whose owner the test does not know (a test fault)");
            if (r.Wrong > 0) failures.Add($"{e.Name}: {r.Wrong} bytes attributed to a wrong pid");
            if (r.Share < e.Required) failures.Add($"{e.Name}: {r.Share:P2} < {e.Required:P0}");
        }
        return failures;
    }
}
