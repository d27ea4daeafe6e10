using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Flows.Names;

/// <summary>
/// The DNS answers still usable, by address. Bounded whatever the capture holds: an address keeps its latest
/// <see cref="PerAddress"/> answers, the store at most <see cref="MaxHeld"/> (more are still written to the `dns` table,
/// counted as not held), and an answer goes once its TTL and grace have passed (swept with the flows).
/// </summary>
internal sealed class DnsAnswerStore
{
    public const int PerAddress = 32;
    public const int MaxHeld = 1 << 20;

    private readonly Dictionary<IpAddr, List<HeldAnswer>> _byAddress = new();
    private int _held;

    public long NotHeld { get; private set; }

    public void Add(HeldAnswer answer)
    {
        if (!_byAddress.TryGetValue(answer.Address, out var list)) _byAddress[answer.Address] = list = [];
        _held -= list.RemoveAll(a => a.UntilNs < answer.Ns);
        if (list.Count >= PerAddress) { list.RemoveAt(0); _held--; }
        if (_held >= MaxHeld) { NotHeld++; return; }
        list.Add(answer);
        _held++;
    }

    /// <summary>The answers for <paramref name="address"/> valid at <paramref name="ns"/> (a flow's first packet), appended.</summary>
    public void ValidAt(IpAddr address, long ns, ref List<HeldAnswer>? into)
    {
        if (_held == 0 || !_byAddress.TryGetValue(address, out var list)) return;
        foreach (var a in list)
            if (a.ValidAt(ns)) (into ??= []).Add(a);
    }

    /// <summary>Forgets the answers no flow starting at <paramref name="ns"/> or later can use.</summary>
    public void Sweep(long ns)
    {
        if (_held == 0) return;
        foreach (var (address, list) in _byAddress)
        {
            _held -= list.RemoveAll(a => a.UntilNs < ns);
            if (list.Count == 0) _byAddress.Remove(address);
        }
    }
}
