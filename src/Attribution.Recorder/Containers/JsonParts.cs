using System.Text.Json;

namespace Attribution.Recorder.Containers;

/// <summary>
/// The parts of a runtime's JSON file that name one container, cut out byte for byte with a forward-only reader (no
/// object model, no reflection: the recorder is compiled ahead of time): the element of a store's list with the
/// container's id, or the members of a file's top-level object that name it (not its environment, which may hold
/// secrets, nor the rest of its spec).
/// </summary>
internal static class JsonParts
{
    private static readonly JsonReaderOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 };

    /// <summary>A member of the top-level object to keep: whole, or only the <paramref name="Inner"/> members of its object.</summary>
    public sealed record Member(string Name, params string[] Inner);

    /// <summary>Where each element of a top-level array of objects lies, by its "id" member: one pass over a store's whole list.</summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public static Dictionary<string, Range> ElementsById(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, Options);
        var index = new Dictionary<string, Range>(StringComparer.Ordinal);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) return index;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            int start = (int)reader.TokenStartIndex;
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }
            string? id = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isId = reader.ValueTextEquals("id"u8);
                reader.Read();
                if (isId && reader.TokenType == JsonTokenType.String) id = reader.GetString();
                else reader.Skip();
            }
            if (id is not null) index[id] = start..(int)reader.BytesConsumed;
        }
        return index;
    }

    /// <summary>
    /// An object of those <paramref name="members"/> the top-level object has, each value as it is in the file (a member
    /// with inner names: an object of those of its members); null when the file is not a JSON object or has none of them.
    /// </summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public static byte[]? Members(ReadOnlySpan<byte> json, IReadOnlyList<Member> members)
    {
        var reader = new Utf8JsonReader(json, Options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        using var output = new MemoryStream();
        bool any = false;
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var wanted = Find(members, ref reader);
                reader.Read();
                if (wanted is null)
                {
                    reader.Skip();
                    continue;
                }
                any = true;
                writer.WritePropertyName(wanted.Name);
                if (wanted.Inner.Length == 0 || reader.TokenType != JsonTokenType.StartObject)
                {
                    CopyValue(ref reader, json, writer);
                    continue;
                }
                writer.WriteStartObject();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    string? inner = Find(wanted.Inner, ref reader);
                    reader.Read();
                    if (inner is null)
                    {
                        reader.Skip();
                        continue;
                    }
                    writer.WritePropertyName(inner);
                    CopyValue(ref reader, json, writer);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        return any ? output.ToArray() : null;
    }

    private static Member? Find(IReadOnlyList<Member> members, ref Utf8JsonReader reader)
    {
        foreach (var m in members)
            if (reader.ValueTextEquals(m.Name)) return m;
        return null;
    }

    private static string? Find(string[] names, ref Utf8JsonReader reader)
    {
        foreach (var name in names)
            if (reader.ValueTextEquals(name)) return name;
        return null;
    }

    /// <summary>The value the reader is on, as the bytes of the file.</summary>
    private static void CopyValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Utf8JsonWriter writer)
    {
        int start = (int)reader.TokenStartIndex;
        reader.Skip();
        writer.WriteRawValue(json[start..(int)reader.BytesConsumed], skipInputValidation: true);
    }
}
