using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Annotation;

/// <summary>
/// The far-end names frames carry, each (name, source) once: a frame's slot holds a number, not the text. Filled by the
/// analysis thread as flows' names become known, read by the copy's thread behind it; a lock between them (taken once
/// per name by the writer, and by the reader only for a number it has not met).
/// </summary>
internal sealed class FrameNames
{
    private readonly Dictionary<(string Name, RemoteNameSource Source), uint> _numbers = new();
    private readonly List<(string Name, RemoteNameSource Source)> _names = [];

    /// <summary>
    /// The slot's value for <paramref name="name"/> on a frame whose own source (not the flow's) is the named end or not:
    /// 0 is no name; the low bit says which end of the frame the name is of.
    /// </summary>
    public uint Slot(FarName name, bool ofFrameSource)
    {
        uint number;
        lock (_names)
        {
            if (!_numbers.TryGetValue((name.Name!, name.Source), out number))
            {
                _names.Add((name.Name!, name.Source));
                _numbers[(name.Name!, name.Source)] = number = (uint)_names.Count;
            }
        }
        return number << 1 | (ofFrameSource ? 1u : 0u);
    }

    public (string Name, RemoteNameSource Source, bool OfFrameSource) Of(uint slot)
    {
        lock (_names)
        {
            var (name, source) = _names[(int)(slot >> 1) - 1];
            return (name, source, (slot & 1) != 0);
        }
    }
}
