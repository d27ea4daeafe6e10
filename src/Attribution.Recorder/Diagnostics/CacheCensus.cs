using System.Runtime.CompilerServices;

namespace Attribution.Recorder.Diagnostics;

/// <summary>
/// The recorder's bounded caches, counted for <see cref="MemoryStatus"/>: each cache registers itself and how to
/// count its entries when it is made. Held weakly (a cache that is collected leaves the census with it), so
/// registering costs nothing that outlives a recording, and the census never keeps a cache alive.
/// </summary>
internal static class CacheCensus
{
    private sealed record Entry(string Name, Func<int> Count, Func<int> Capacity);

    private static readonly ConditionalWeakTable<object, Entry> Caches = new();

    // Count and Capacity are read from the status thread while the owner changes the collection: a racy read of
    // one int, good enough for a report, and neither property throws.
    public static Dictionary<TKey, TValue> Tracked<TKey, TValue>(string name, Dictionary<TKey, TValue> cache) where TKey : notnull =>
        Track(cache, name, () => cache.Count, () => cache.Capacity);

    public static HashSet<T> Tracked<T>(string name, HashSet<T> cache) => Track(cache, name, () => cache.Count, () => cache.Capacity);

    public static Queue<T> Tracked<T>(string name, Queue<T> cache) => Track(cache, name, () => cache.Count, () => cache.Capacity);

    public static List<T> Tracked<T>(string name, List<T> cache) => Track(cache, name, () => cache.Count, () => cache.Capacity);

    private static T Track<T>(T cache, string name, Func<int> count, Func<int> capacity) where T : class
    {
        Caches.AddOrUpdate(cache, new Entry(name, count, capacity));
        return cache;
    }

    /// <summary>Entries and capacity (the slots its arrays hold: Clear keeps them) per name, summed over every live
    /// collection of that name, sorted by name.</summary>
    public static IReadOnlyList<(string Name, int Entries, int Capacity)> Counts()
    {
        var sums = new SortedDictionary<string, (int Entries, int Capacity)>(StringComparer.Ordinal);
        foreach (var (_, entry) in Caches)
        {
            var (n, c) = sums.GetValueOrDefault(entry.Name);
            sums[entry.Name] = (n + entry.Count(), c + entry.Capacity());
        }
        return sums.Select(e => (e.Key, e.Value.Entries, e.Value.Capacity)).ToList();
    }
}
