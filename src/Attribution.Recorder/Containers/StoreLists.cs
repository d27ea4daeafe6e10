using System.Text.Json;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Containers;

/// <summary>
/// containers/storage's lists of containers (containers.json: every container of the store, one element each), read
/// once and indexed by id while the file is unchanged: the first snapshot may meet hundreds of containers, and reading
/// and scanning the whole list for each would cost the square of their number.
/// </summary>
internal sealed class StoreLists
{
    private sealed record List(DateTime Modified, long Length, byte[] Bytes, Dictionary<string, Range> Index);

    private readonly Dictionary<string, List> _read = CacheCensus.Tracked("StoreLists.read", new Dictionary<string, List>(StringComparer.Ordinal));

    /// <summary>The bytes of the list's element for <paramref name="id"/>, or null (no such list, no such container, not JSON).</summary>
    public ReadOnlySpan<byte> Element(string path, string id)
    {
        if (_read.TryGetValue(path, out var list) && list.Index.TryGetValue(id, out var known) && Unchanged(path, list)) return list.Bytes.AsSpan()[known];
        // Not read yet, changed, or without this container: the runtime may have added it since (within the clock's resolution).
        var info = new FileInfo(path);
        if (!info.Exists) return default;
        var modified = info.LastWriteTimeUtc;
        var bytes = HostFile.Read(path, ContainerFiles.MaxFileBytes, out bool truncated);
        if (bytes is null || truncated) return default; // a list cut short is not JSON
        Dictionary<string, Range> index;
        try { index = JsonParts.ElementsById(bytes); }
        catch (JsonException) { return default; } // caught mid-write (the runtime renames a new list into place; a copy may not)
        _read[path] = new List(modified, bytes.Length, bytes, index);
        return index.TryGetValue(id, out var range) ? bytes.AsSpan()[range] : default;
    }

    private static bool Unchanged(string path, List list)
    {
        var info = new FileInfo(path);
        return info.Exists && info.LastWriteTimeUtc == list.Modified && info.Length == list.Length;
    }
}
