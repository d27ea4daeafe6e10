using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;
using Attribution.Core.KernelEvents;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Core.Time;

namespace Attribution.Cli.Commands;

/// <summary>
/// Kernel events as one line of text each, for `attribution snapshots --events`. Tracepoint fields are decoded
/// with the format stored in the recording, not with this build's idea of the layout. Bytes that came from the
/// kernel or a process (comm, device names) are escaped, so no event can print a line that looks like another.
/// </summary>
public sealed class KernelEventText
{
    private readonly Dictionary<int, (string Name, TracepointFormat Format)> _tracepoints = new();

    public void Add(KernelEventSourcesRecord sources)
    {
        foreach (var t in sources.Tracepoints)
        {
            try { _tracepoints[t.Id] = (t.Name, TracepointFormat.Parse(t.Format)); }
            catch (Exception e) when (e is InvalidDataException or FormatException) { } // its samples print as raw bytes
        }
    }

    public static string Describe(KernelEventSourcesRecord s) =>
        $"kernel events from {RealtimeClock.Format(s.StartNanoseconds)} on {s.Cpus} cpus, clock {Escape(s.Clock)}, " +
        $"process events {(s.ProcessEvents ? "on" : "off")}; tracepoints: " +
        (s.Tracepoints.Count == 0 ? "none" : string.Join(", ", s.Tracepoints.Select(t => $"{Escape(t.Name)} (id {t.Id})"))) +
        string.Concat(s.Unavailable.Select(u => $"\n  unavailable: {Escape(u)}"));

    public string Format(in KernelEvent e)
    {
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"  {RealtimeClock.Format(e.Nanoseconds)} cpu {e.Cpu} pid {e.Pid}/{e.Tid} ");
        switch (e.Kind)
        {
            case KernelEventKind.Fork:
                line.Append(CultureInfo.InvariantCulture, $"fork parent {e.ParentPid}/{e.ParentTid} start_ticks {e.StartTicks}");
                break;
            case KernelEventKind.Exec:
                line.Append(CultureInfo.InvariantCulture, $"exec comm \"{Escape(e.Comm.Span)}\" start_ticks {e.StartTicks}");
                break;
            case KernelEventKind.Exit:
                line.Append(CultureInfo.InvariantCulture, $"exit start_ticks {e.StartTicks}");
                break;
            case KernelEventKind.Tracepoint:
                Tracepoint(line, e.Raw.Span);
                break;
        }
        return line.ToString();
    }

    private void Tracepoint(StringBuilder line, ReadOnlySpan<byte> raw)
    {
        int id = raw.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(raw) : -1;
        if (!_tracepoints.TryGetValue(id, out var t))
        {
            line.Append(CultureInfo.InvariantCulture, $"tracepoint id {id} raw {Convert.ToHexString(raw)}");
            return;
        }
        line.Append(Escape(t.Name));
        foreach (var f in t.Format.Fields.OrderBy(f => f.Offset))
        {
            if (f.Name.StartsWith(Tracepoints.Common.Prefix, StringComparison.Ordinal) && f.Name != Tracepoints.Common.Flags) continue;
            if (f.Offset + f.Size > raw.Length) continue;
            line.Append(' ').Append(Escape(f.Name)).Append('=').Append(Value(f, raw.Slice(f.Offset, f.Size)));
        }
    }

    private static string Value(TracepointField f, ReadOnlySpan<byte> bytes)
    {
        if (f.IsText) return "\"" + Escape(bytes[..Math.Max(0, bytes.IndexOf((byte)0) is var nul and >= 0 ? nul : bytes.Length)]) + "\"";
        if (f.IsArray && bytes.Length is 4 or 16) return new IPAddress(bytes).ToString();
        if (f.IsArray) return Convert.ToHexString(bytes);
        if (f.IsPointer) return "0x" + BinaryPrimitives.ReadUInt64LittleEndian(bytes.Length == 8 ? bytes : [.. bytes, 0, 0, 0, 0]).ToString("x", CultureInfo.InvariantCulture);
        long value = bytes.Length switch
        {
            1 => f.Signed ? (sbyte)bytes[0] : bytes[0],
            2 => f.Signed ? BinaryPrimitives.ReadInt16LittleEndian(bytes) : BinaryPrimitives.ReadUInt16LittleEndian(bytes),
            4 => f.Signed ? BinaryPrimitives.ReadInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes),
            8 => BinaryPrimitives.ReadInt64LittleEndian(bytes),
            _ => 0,
        };
        if (bytes.Length is not (1 or 2 or 4 or 8)) return Convert.ToHexString(bytes);
        if (f.Name == Tracepoints.Common.Flags) return "0x" + value.ToString("x2", CultureInfo.InvariantCulture);
        // TCP state fields, matched by name (inet_sock_set_state's): the kernel's state names read better than numbers.
        if (f.Name is Tracepoints.InetSockSetState.OldState or Tracepoints.InetSockSetState.NewState && TcpStateNames.TryKernelName(value, out var state)) return state;
        return value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Printable ASCII as is; a backslash, a quote and every other byte as \xNN (<see cref="RawText.Printable(ReadOnlySpan{byte})"/>).</summary>
    public static string Escape(ReadOnlySpan<byte> bytes) => RawText.Printable(bytes);

    public static string Escape(string text) => RawText.Printable(text);
}
