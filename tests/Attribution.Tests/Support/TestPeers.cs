namespace Attribution.Tests.Support;

/// <summary>The test peers a scenario starts, stopped together (each by its own pid) when the scenario ends.</summary>
public sealed class TestPeers : IDisposable
{
    private readonly List<TestPeer> _peers = [];

    /// <summary>Starts a peer (<see cref="TestPeer.Start"/>) that <see cref="Dispose"/> stops.</summary>
    public TestPeer Start(string? netns, params string[] args)
    {
        var peer = TestPeer.Start(netns, args);
        _peers.Add(peer);
        return peer;
    }

    /// <summary>Stops every peer started so far; more may be started after.</summary>
    public void Dispose()
    {
        foreach (var peer in _peers) peer.Dispose();
        _peers.Clear();
    }
}
