using static Attribution.Tests.Support.AttributionScore;

namespace Attribution.Tests.Support;

/// <summary>
/// The bytes of one end (server or client) of a scored case: right, wrong (by which process and rule), left
/// unattributed (by reason), given to a process that is not wrong but not the expected one, and those whose owner
/// the test does not know. What a failure prints, so it says which process took what, and how.
/// </summary>
public sealed class EndTally(string name)
{
    private readonly Dictionary<string, long> _wrongBy = [], _unattributedBy = [], _otherBy = [];

    public string Name { get; } = name;
    /// <summary>Bytes with an expected owner: the share's denominator.</summary>
    public long Total { get; private set; }
    public long Right { get; private set; }
    public long Wrong { get; private set; }
    public long Unattributed { get; private set; }
    /// <summary>Bytes with no known owner at all: a fault of the test.</summary>
    public long Unknown { get; private set; }
    public double Share => Total == 0 ? 0 : (double)Right / Total;

    /// <summary>One end of one packet: its expected owner, and what the analysis said (pid 0: none).</summary>
    public void Add(long length, Owner owner, long pid, string? comm, string? method, string? reason)
    {
        if (owner.Expected is null && owner.AlsoAcceptable is null) { Unknown += length; return; }
        if (owner.Expected is { } expected)
        {
            Total += length;
            if (pid == expected) { Right += length; return; }
        }
        if (pid == 0)
        {
            if (owner.Expected is null) return;
            Unattributed += length;
            Count(_unattributedBy, reason ?? "no reason", length);
        }
        else if (owner.AlsoAcceptable?.Contains((int)pid) == true)
        {
            if (owner.Expected is not null) Count(_otherBy, $"pid {pid} {comm} by {method}", length);
        }
        else
        {
            Wrong += length;
            Count(_wrongBy, $"pid {pid} {comm} by {method}", length);
        }
    }

    private static void Count(Dictionary<string, long> into, string key, long length) => into[key] = into.GetValueOrDefault(key) + length;

    /// <summary>The wrong bytes, by process and rule ("pid 9258 postgres by exact 1,800"), largest first.</summary>
    public string WrongDetail => Detail(_wrongBy);

    /// <summary>One line: the share, the counts, and where the bytes that are not right went.</summary>
    public string Describe()
    {
        if (Total == 0 && Unknown == 0) return $"{Name} end: not scored, only checked for wrong pids: wrong {Wrong:N0}" + (Wrong > 0 ? $" ({WrongDetail})" : "");
        var line = $"{Name} end: {Share:P2} of {Total:N0} bytes right (right {Right:N0}, wrong {Wrong:N0}, unattributed {Unattributed:N0}";
        long other = Total - Right - Wrong - Unattributed;
        if (other > 0) line += $", another holder {other:N0}";
        line += ")";
        if (Unknown > 0) line += $", {Unknown:N0} with no known owner";
        if (_wrongBy.Count > 0) line += $"; wrong: {WrongDetail}";
        if (_unattributedBy.Count > 0) line += $"; unattributed: {Detail(_unattributedBy)}";
        if (_otherBy.Count > 0) line += $"; to another holder: {Detail(_otherBy)}";
        return line;
    }

    private static string Detail(Dictionary<string, long> bytes) =>
        string.Join(", ", bytes.OrderByDescending(b => b.Value).Select(b => $"{b.Key} {b.Value:N0}"));
}
