using System.Globalization;
using System.Text;

namespace Attribution.Core.Linux;

/// <summary>
/// Bytes a process or the kernel chose (comm, exe, cmdline, device names) turned into text without losing or
/// forging anything. Linux names are bytes, not UTF-8: a decoder's U+FFFD would make two names one.
/// </summary>
public static class RawText
{
    /// <summary>
    /// For stored text (SQLite, CSV): valid UTF-8 as is, every byte of an invalid sequence as <c>\xNN</c>
    /// (lower-case hex), like Python's "backslashreplace". Readable and searchable; the raw bytes are kept
    /// beside it where exactness matters (docs/SCHEMA.md).
    /// </summary>
    public static string Utf8OrEscaped(ReadOnlySpan<byte> bytes)
    {
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) return Escaped(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    private static string Escaped(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length + 8);
        while (!bytes.IsEmpty)
        {
            var status = System.Text.Rune.DecodeFromUtf8(bytes, out var rune, out int used);
            if (status == System.Buffers.OperationStatus.Done) text.Append(rune.ToString());
            else
                foreach (byte b in bytes[..used]) text.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}");
            bytes = bytes[used..];
        }
        return text.ToString();
    }

    /// <summary>
    /// For a line on a terminal: printable ASCII as is; a backslash, a double quote and every other byte as
    /// <c>\xNN</c>, so no name can end a line, move the cursor or pass for another field.
    /// </summary>
    public static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        foreach (byte b in bytes)
            if (b is >= 0x20 and < 0x7F and not (byte)'\\' and not (byte)'"') text.Append((char)b);
            else text.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}");
        return text.ToString();
    }

    public static string Printable(string text) => Printable(Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// A NUL-separated argv (/proc/PID/cmdline) joined with spaces for display: the one NUL that ends the last argument
    /// is dropped, so a trailing empty argument stays (a trailing space); bytes that are not UTF-8 are \xNN.
    /// </summary>
    public static string Arguments(ReadOnlySpan<byte> argv)
    {
        if (!argv.IsEmpty && argv[^1] == 0) argv = argv[..^1];
        return Utf8OrEscaped(argv).Replace('\0', ' ');
    }
}
