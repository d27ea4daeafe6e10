using System.Buffers.Binary;

namespace Attribution.Fuzz.Targets;

/// <summary>
/// A seeded, coverage-less mutator (the CI half of the fuzzing: deterministic, fast, no afl++). Each call
/// takes an input from the corpus and applies 1–4 of: bit flips, interesting bytes and words in either byte
/// order (0, -1, lengths just past the input), range deletion, duplication and insertion, truncation, and
/// splicing with another corpus input. The same seed gives the same inputs on every machine.
/// </summary>
public sealed class Mutator(IReadOnlyList<byte[]> corpus, int seed)
{
    private static readonly uint[] Interesting = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 12, 16, 20, 28, 32];
    private readonly Random _random = new(seed);

    public byte[] Next()
    {
        var data = corpus.Count == 0 ? [] : corpus[_random.Next(corpus.Count)];
        var buffer = new List<byte>(data);
        int rounds = 1 + _random.Next(4);
        for (int i = 0; i < rounds; i++) Mutate(buffer);
        return buffer.ToArray();
    }

    private void Mutate(List<byte> b)
    {
        if (b.Count == 0) { b.Add((byte)_random.Next(256)); return; }
        int at = _random.Next(b.Count);
        switch (_random.Next(10))
        {
            case 0: b[at] ^= (byte)(1 << _random.Next(8)); break;
            case 1: b[at] = (byte)_random.Next(256); break;
            case 2: b[at] = (byte)Interesting[_random.Next(5)]; break;
            case 3: Word(b, at, 2); break;
            case 4: Word(b, at, 4); break;
            case 5: b.RemoveRange(at, Math.Min(b.Count - at, 1 + _random.Next(16))); break;
            case 6:
                int length = Math.Min(b.Count - at, 1 + _random.Next(32));
                b.InsertRange(_random.Next(b.Count + 1), b.GetRange(at, length));
                break;
            case 7: b.InsertRange(at, Enumerable.Range(0, 1 + _random.Next(8)).Select(_ => (byte)_random.Next(256)).ToArray()); break;
            case 8: b.RemoveRange(at, b.Count - at); break;
            default:
                if (corpus.Count == 0) break;
                var other = corpus[_random.Next(corpus.Count)];
                if (other.Length == 0) break;
                int from = _random.Next(other.Length);
                b.RemoveRange(at, b.Count - at);
                b.AddRange(other.AsSpan(from).ToArray());
                break;
        }
    }

    /// <summary>An interesting value, or one just past the input's length, written over 2 or 4 bytes in either byte order.</summary>
    private void Word(List<byte> b, int at, int width)
    {
        if (at + width > b.Count) return;
        uint value = _random.Next(3) == 0 ? (uint)(b.Count - at + _random.Next(-4, 5)) : Interesting[_random.Next(Interesting.Length)];
        Span<byte> bytes = stackalloc byte[4];
        if (_random.Next(2) == 0) BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        else BinaryPrimitives.WriteUInt32BigEndian(bytes, width == 2 ? value << 16 : value);
        for (int i = 0; i < width; i++) b[at + i] = bytes[i];
    }
}
