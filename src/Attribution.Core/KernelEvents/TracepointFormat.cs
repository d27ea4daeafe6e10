namespace Attribution.Core.KernelEvents;

/// <summary>
/// One field of a tracepoint record: where it is in the raw sample and how wide. <paramref name="Type"/> is the
/// C type as declared, with any array suffix ("__u8[4]", "const void *", "char[16]"), for display.
/// </summary>
public readonly record struct TracepointField(string Name, int Offset, int Size, bool Signed, string Type = "")
{
    public bool IsArray => Type.EndsWith(']');
    public bool IsPointer => Type.EndsWith('*');
    public bool IsText => IsArray && Type.StartsWith("char", StringComparison.Ordinal);
}

/// <summary>
/// A tracefs event <c>format</c> file: the event's id and its fields' offsets. Read at record time from
/// /sys/kernel/tracing/events/SYSTEM/NAME/format and stored in the sidecar, because field layouts differ
/// between kernels; nothing downstream hard-codes an offset.
/// </summary>
public sealed class TracepointFormat
{
    private readonly Dictionary<string, TracepointField> _fields;

    public string Name { get; }
    public int Id { get; }
    public IReadOnlyCollection<TracepointField> Fields => _fields.Values;

    private TracepointFormat(string name, int id, Dictionary<string, TracepointField> fields)
    {
        Name = name;
        Id = id;
        _fields = fields;
    }

    public bool TryGet(string field, out TracepointField f) => _fields.TryGetValue(field, out f);

    /// <summary>The field, or an error naming the tracepoint: the caller decides whether the event is usable without it.</summary>
    public TracepointField Get(string field) =>
        _fields.TryGetValue(field, out var f) ? f : throw new InvalidDataException($"tracepoint {Name} has no field '{field}'");

    /// <summary>
    /// Parses lines like <c>field:__u16 sport;	offset:24;	size:2;	signed:0;</c>. The field name is the last
    /// identifier of the declaration, before any array suffix (<c>__u8 saddr[4]</c> is "saddr").
    /// </summary>
    public static TracepointFormat Parse(string text)
    {
        string name = "";
        int id = -1;
        var fields = new Dictionary<string, TracepointField>(StringComparer.Ordinal);
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.StartsWith("name:", StringComparison.Ordinal)) name = line[5..].Trim();
            else if (line.StartsWith("ID:", StringComparison.Ordinal)) id = Number(line[3..].Trim(), name, line);
            else if (line.StartsWith("field:", StringComparison.Ordinal) && TryParseField(line, out var field)) fields[field.Name] = field;
        }
        if (id < 0) throw new InvalidDataException($"tracepoint format {(name.Length > 0 ? name : "(unnamed)")} has no ID line");
        return new TracepointFormat(name, id, fields);
    }

    /// <summary>A decimal, or the format is unusable: an InvalidDataException, never a FormatException or OverflowException.</summary>
    private static int Number(string text, string name, string line) =>
        int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int value) ? value
        : throw new InvalidDataException($"tracepoint format {(name.Length > 0 ? name : "(unnamed)")}: '{line}' does not hold a number");

    private static bool TryParseField(string line, out TracepointField field)
    {
        field = default;
        var parts = line.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 3) return false;
        var declaration = parts[0]["field:".Length..].Trim();
        // A dynamic string (`__data_loc char[] filename`): the brackets belong to the type, the name follows them.
        int close = declaration.IndexOf(']');
        if (close >= 0 && declaration[(close + 1)..].Trim() is { Length: > 0 } after)
        {
            return TryParseSizes(parts, line, after, parts[0]["field:".Length..].Trim()[..(close + 1)], out field);
        }
        int bracket = declaration.IndexOf('[');
        var arraySuffix = bracket >= 0 ? declaration[bracket..] : "";
        if (bracket >= 0) declaration = declaration[..bracket];
        int space = declaration.LastIndexOfAny([' ', '*']);
        var fieldName = declaration[(space + 1)..];
        var type = declaration[..(space + 1)].Trim() + arraySuffix;
        return TryParseSizes(parts, line, fieldName, type, out field);
    }

    private static bool TryParseSizes(string[] parts, string line, string fieldName, string type, out TracepointField field)
    {
        field = default;
        int offset = -1, size = -1;
        bool signed = false;
        foreach (var part in parts.Skip(1))
        {
            if (part.StartsWith("offset:", StringComparison.Ordinal)) offset = Number(part[7..], "", line);
            else if (part.StartsWith("size:", StringComparison.Ordinal)) size = Number(part[5..], "", line);
            else if (part.StartsWith("signed:", StringComparison.Ordinal)) signed = part[7..] == "1";
        }
        if (fieldName.Length == 0 || offset < 0 || size <= 0) return false;
        field = new TracepointField(fieldName, offset, size, signed, type);
        return true;
    }
}
