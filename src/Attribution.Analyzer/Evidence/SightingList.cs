namespace Attribution.Analyzer.Evidence;

/// <summary>
/// The sightings of one connection or binding key (<see cref="EvidenceIndex.Connected"/>, <see cref="EvidenceIndex.Bound"/>):
/// nearly always one socket's, held inline; a list only from the second. The index holds a key per socket of the host,
/// and a list of one per key (the list and its array) was 64 bytes a socket, a sixth of the analyzer's peak on a host
/// of many sockets (docs/FORMAT.md, Robustness).
/// </summary>
internal struct SightingList
{
    private object? _items; // null, one SocketSighting, or a List<SocketSighting> of two or more

    public readonly int Count => _items switch { SocketSighting => 1, List<SocketSighting> many => many.Count, _ => 0 };

    public void Add(SocketSighting sighting) => _items = _items switch
    {
        null => sighting,
        SocketSighting one => new List<SocketSighting>(2) { one, sighting },
        List<SocketSighting> many => Added(many, sighting),
        _ => throw new InvalidOperationException(),
    };

    private static List<SocketSighting> Added(List<SocketSighting> many, SocketSighting sighting)
    {
        many.Add(sighting);
        return many;
    }

    public readonly Enumerator GetEnumerator() => new(_items);

    public struct Enumerator(object? items)
    {
        private int _index = -1;

        public readonly SocketSighting Current => items as SocketSighting ?? ((List<SocketSighting>)items!)[_index];

        public bool MoveNext() => ++_index < (items switch { SocketSighting => 1, List<SocketSighting> many => many.Count, _ => 0 });
    }
}
