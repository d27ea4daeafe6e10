using System.Buffers.Text;
using System.Text;
using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Output;
using Attribution.Analyzer.Results;
using Attribution.Core.Decoding;

namespace Attribution.Analyzer.Annotation;

/// <summary>
/// The comment each local end of a packet gets, one line a person reads at a glance and the Wireshark
/// plugin (contrib/wireshark/attribution.lua) parses back:
/// <code>
/// attribution: 10.0.3.2:41822 curl[4242] /usr/bin/curl (method exact) container web-1 (3f2a9c1b7d0e)
/// attribution: 10.0.3.2:41822 unattributed (time-wait)
/// attribution: unattributed (no-local-end)
/// attribution: 93.184.215.14:443 remote_name example.com (sni)
/// attribution: 10.0.3.2:41822 chain curl[4242] &lt; bash[4100] &lt; sshd: alice@pts/0[4090] (alice, session 7) &lt; sshd[800] (ssh.service)
/// </code>
/// The last is the far end's name, on the frames of a flow that has one: the end it names, the name, where it came
/// from (the words of `flows.remote_name_source`); as known when the frame's row was final (docs/WIRESHARK.md).
/// The comm is the one the process had at the packet's time (a process may rename itself while it talks).
/// Built as UTF-8 into a reused buffer; the per-process (and per-name) and per-address parts are cached.
/// </summary>
internal sealed class AnnotationText(ProcessTable processes, FrameNames? names = null)
{
    private static readonly byte[] Prefix = "attribution: "u8.ToArray(), NoWord = "none"u8.ToArray();
    private readonly Dictionary<uint, byte[]> _names = new(); // per name number: " remote_name NAME (SOURCE)"
    private readonly Dictionary<int, byte[]?[]> _process = new(); // per process, one text per name it had
    private readonly AddressText _addresses = new();
    private readonly byte[] _buffer = new byte[8192];

    /// <summary>
    /// The text of one end at the packet's time <paramref name="ns"/>: <paramref name="process"/> 0 for unattributed (then
    /// <paramref name="reason"/> says why).
    /// </summary>
    public ReadOnlySpan<byte> End(in DecodedPacket packet, bool source, int process, Method method, Reason reason, long ns)
    {
        var w = new Writer(_buffer);
        w.Put(Prefix);
        if (packet.IsIp) Address(ref w, packet, source);
        if (process != 0)
        {
            w.Put(ProcessText(process, ns));
            w.Put(" (method "u8);
            w.Put(Words.Utf8(method) ?? NoWord);
            w.Put(")"u8);
            w.Put(ContainerText(process));
        }
        else
        {
            w.Put("unattributed ("u8);
            w.Put(Words.Utf8(reason) ?? NoWord);
            w.Put(")"u8);
        }
        return w.Written;
    }

    /// <summary>"ADDR:PORT " of one end ("[ADDR]:PORT " for IPv6).</summary>
    private void Address(ref Writer w, in DecodedPacket packet, bool source)
    {
        var address = source ? packet.Source : packet.Destination;
        if (!address.IsV4Mapped && packet.HasPorts) w.Put("["u8);
        w.Put(_addresses.Utf8(address));
        if (packet.HasPorts)
        {
            if (!address.IsV4Mapped) w.Put("]"u8);
            w.Put(":"u8);
            w.Number(source ? packet.SourcePort : packet.DestinationPort);
        }
        w.Put(" "u8);
    }

    /// <summary>The far end's name on a frame (<paramref name="slot"/> from its <see cref="FrameResult"/>), after the end it names.</summary>
    public ReadOnlySpan<byte> Name(in DecodedPacket packet, uint slot)
    {
        var w = new Writer(_buffer);
        w.Put(Prefix);
        if (!_names.TryGetValue(slot, out var text))
        {
            var (name, source, _) = names!.Of(slot);
            _names[slot] = text = Encoding.UTF8.GetBytes($"remote_name {Clean(name, word: true)} ({source.Name()})");
        }
        if (packet.IsIp) Address(ref w, packet, source: (slot & 1) != 0);
        w.Put(text);
        return w.Written;
    }

    private readonly Dictionary<int, byte[]?> _chains = new();

    /// <summary>
    /// The long form of an end's process: its ancestry in one line (`processes.chain`), after the end it belongs to; empty
    /// where the process has none.
    /// </summary>
    public ReadOnlySpan<byte> Chain(in DecodedPacket packet, bool source, int process)
    {
        if (!_chains.TryGetValue(process, out var text))
            _chains[process] = text = processes[process].Chain is { Length: > 0 } chain ? Encoding.UTF8.GetBytes("chain " + Clean(chain)) : null;
        if (text is null) return [];
        var w = new Writer(_buffer);
        w.Put(Prefix);
        if (packet.IsIp) Address(ref w, packet, source);
        w.Put(text);
        return w.Written;
    }

    /// <summary>For a packet with no local end at all (or not IP).</summary>
    public ReadOnlySpan<byte> Nobody(Reason reason)
    {
        var w = new Writer(_buffer);
        w.Put(Prefix);
        w.Put("unattributed ("u8);
        w.Put(Words.Utf8(reason) ?? NoWord);
        w.Put(")"u8);
        return w.Written;
    }

    /// <summary>`comm[pid] exe` with the comm in force at <paramref name="ns"/>, cached per process and name.</summary>
    private byte[] ProcessText(int process, long ns)
    {
        var p = processes[process];
        if (!_process.TryGetValue(process, out var texts)) _process[process] = texts = new byte[]?[Math.Max(1, p.Names.Count)];
        int name = p.NameIndexAt(ns);
        return texts[name] ??= Text(p, name);
    }

    private static byte[] Text(ProcessTable.ProcessEntry p, int name)
    {
        string comm = (p.Names.Count > 0 ? p.Names[name].Comm : p.Record?.Comm) is { Length: > 0 } c ? Clean(c) : "?";
        string exe = p.Record?.Exe is { Length: > 0 } e ? Clean(e) : "?";
        return Encoding.UTF8.GetBytes($"{comm}[{p.Key.Pid}] {exe}");
    }

    private readonly Dictionary<int, byte[]> _container = new();

    /// <summary>
    /// " container NAME (ID)", or " container ID" where no name was recorded: the name as its users know it, one word (a
    /// Kubernetes container as NAMESPACE/POD/NAME), then the id that `docker ps` shows.
    /// </summary>
    private byte[] ContainerText(int process)
    {
        if (_container.TryGetValue(process, out var text)) return text;
        var c = processes.Containers.Of(processes[process].Record);
        string words = c is null ? "" : c.DisplayName is { } name ? $" container {Clean(name, word: true)} ({Clean(c.ShortId)})" : $" container {Clean(c.ShortId)}";
        return _container[process] = Encoding.UTF8.GetBytes(words);
    }

    /// <summary>A comment is one line: control characters (a comm may hold anything) become '?'; in a <paramref name="word"/>, spaces too.</summary>
    private static string Clean(string s, bool word = false) => string.Create(s.Length, (s, word), (span, state) =>
    {
        var (src, oneWord) = state;
        for (int i = 0; i < src.Length; i++) span[i] = char.IsControl(src[i]) || (oneWord && char.IsWhiteSpace(src[i])) ? '?' : src[i];
    });

    private ref struct Writer(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;
        private int _at;

        public void Put(ReadOnlySpan<byte> bytes)
        {
            int n = Math.Min(bytes.Length, _buffer.Length - _at);
            bytes[..n].CopyTo(_buffer[_at..]);
            _at += n;
        }

        public void Number(ushort value)
        {
            if (Utf8Formatter.TryFormat(value, _buffer[_at..], out int n)) _at += n;
        }

        public readonly ReadOnlySpan<byte> Written => _buffer[.._at];
    }
}
