using System.Text;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence.Ancestry;

/// <summary>
/// A process's ancestry in one line, for a reader: `curl[4242] < bash[4100] < sshd: alice@pts/0[4090] (alice, session 7)
/// < sshd[800] (ssh.service)`: each process by its name (its command line's first word, as ps shows a title a process
/// gave itself, else its comm) and pid, up to pid 1, which is everyone's and left out. In parentheses, where it differs
/// from its parent's: the login session (the login's user and the session id) where one begins, else the user where
/// it changes (su, runuser, a service's user), and the systemd unit.
/// </summary>
internal static class AncestryChain
{
    private const int MaxLinks = 64;

    public static void Build(ProcessTable table)
    {
        foreach (var entry in table.All) entry.Chain = Of(table, entry);
    }

    private static string Of(ProcessTable table, ProcessTable.ProcessEntry entry)
    {
        var text = new StringBuilder();
        var e = entry;
        long at = long.MaxValue; // the process by its latest name; each ancestor by the one it had when it made its child
        for (int links = 0; links < MaxLinks; links++)
        {
            if (links > 0) text.Append(" < ");
            text.Append(Name(e, at)).Append('[').Append(e.Key.Pid).Append(']');
            at = e.StartNs;
            var parent = e.ParentId != 0 ? table[e.ParentId] : null;
            if (Differences(table, e.Record, parent?.Record) is { Length: > 0 } notes) text.Append(" (").Append(notes).Append(')');
            if (parent is null || parent.Key.Pid == 1) break;
            e = parent;
        }
        return text.ToString();
    }

    /// <summary>What a reader should know of a process and its parent does not say: its session, user, unit.</summary>
    private static string Differences(ProcessTable table, ProcessRecord? record, ProcessRecord? parent)
    {
        if (record is null) return "";
        var notes = new List<string>();
        if (record.SessionId is { } session and not ProcessRecord.NoLogin && session != parent?.SessionId)
        {
            notes.Add(table.UserName(record.LoginUid) ?? table.UserName(record.Uid) ?? $"uid {record.LoginUid}");
            notes.Add($"session {session}");
        }
        else if (parent is not null && record.Uid != parent.Uid)
            notes.Add(table.UserName(record.Uid) ?? $"uid {record.Uid}");
        string? unit = SystemdUnit.FromCgroup(record.Cgroup);
        if (unit is not null && unit != (parent is null ? null : SystemdUnit.FromCgroup(parent.Cgroup))) notes.Add(unit);
        return string.Join(", ", notes);
    }

    /// <summary>
    /// Its name at <paramref name="ns"/> (a shell that forked a child and then exec'd its last command was the shell then):
    /// the first word of the command line (a title such as "sshd: alice@pts/0" whole; a path by its last part), else the comm.
    /// </summary>
    private static string Name(ProcessTable.ProcessEntry entry, long ns)
    {
        var name = entry.NameAt(ns);
        if (name is not null) return Name(name.Cmdline, name.CommRaw, name.Comm);
        return entry.Record is { } r ? Name(r.Cmdline, r.CommRaw, r.Comm) : "?";
    }

    private static string Name(byte[] cmdlineBytes, byte[]? commRaw, string comm)
    {
        var cmdline = cmdlineBytes.AsSpan();
        int end = cmdline.IndexOf((byte)0);
        var first = end < 0 ? cmdline : cmdline[..end];
        if (first.IsEmpty) return RawText.Printable(commRaw is { } raw ? RawText.Utf8OrEscaped(raw) : comm);
        string word = RawText.Utf8OrEscaped(first);
        // "/usr/sbin/sshd" reads as "sshd"; a title with spaces ("sshd: alice@pts/0") is kept whole.
        if (word.StartsWith('/') && !word.Contains(' ')) word = word[(word.LastIndexOf('/') + 1)..];
        return RawText.Printable(word);
    }
}
