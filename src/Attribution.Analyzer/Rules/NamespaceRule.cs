using Attribution.Analyzer.Evidence;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// Both ends, each in its own namespace: on loopback and between namespaces, a socket may be an end only in a
/// namespace that can hold that end's address.
/// </summary>
internal sealed class NamespaceRule(EvidenceIndex index)
{
    /// <summary>Whether a socket in <paramref name="netns"/> can be the end with this address, as far as the evidence says.</summary>
    public bool CanHold(ulong netns, IpAddr address)
    {
        // The capture was taken in the recorder's namespace, so loopback packets are that namespace's.
        if (address.IsLoopback) return netns == index.RecorderNetns;
        return !index.LocalAddresses.TryGetValue(netns, out var mine) || mine.Contains(address) || address.IsUnspecified;
    }

    /// <summary>
    /// Whether the evidence shows <paramref name="netns"/> holding <paramref name="address"/> (its address tables list it),
    /// rather than only not ruling it out as <see cref="CanHold"/> does for a namespace whose tables the recording lacks.
    /// </summary>
    public bool Holds(ulong netns, IpAddr address)
    {
        if (address.IsLoopback) return netns == index.RecorderNetns;
        return index.LocalAddresses.TryGetValue(netns, out var mine) && mine.Contains(address);
    }
}
