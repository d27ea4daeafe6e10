namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>
/// A process acting on a socket in its own context at a moment: moving its data (a sampled send or receive) or
/// changing its state (connect, listen, shutdown, close). A socket's acts in time order say who held it when.
/// </summary>
internal readonly record struct SocketAct(long Ns, int Process, bool MovedData);
