namespace Attribution.Analyzer.Results;

/// <summary>
/// The small integers that stand for a packet's method and reason in `packet_rows`; the `methods` and
/// `reasons` tables hold their text, and the `packets` view shows the text.
/// </summary>
internal static class PacketCodes
{
    private static readonly int MethodCount = Enum.GetValues<Method>().Length;
    private static readonly int ReasonCount = Enum.GetValues<Reason>().Length;

    public static int? Method(Method source, Method destination) =>
        source == Results.Method.None && destination == Results.Method.None ? null : (int)source * MethodCount + (int)destination;

    public static int? Reason(Reason reason) => reason == Results.Reason.None ? null : (int)reason;

    /// <summary>
    /// Each end's own reason (`packet_rows.end_reasons_code`, the `packets` view's src_reason and dst_reason): said for an
    /// unattributed end even where the other end is attributed, when the packet's own reason is none.
    /// </summary>
    public static int? EndReasons(Reason source, Reason destination) =>
        source == Results.Reason.None && destination == Results.Reason.None ? null : (int)source * ReasonCount + (int)destination;

    public static IEnumerable<(int Code, string? Source, string? Destination)> ReasonPairs() =>
        from s in Enum.GetValues<Reason>()
        from d in Enum.GetValues<Reason>()
        let code = EndReasons(s, d)
        where code is not null
        select (code.Value, s.Name(), d.Name());

    public static IEnumerable<(int Code, string Text)> Methods() =>
        from s in Enum.GetValues<Method>()
        from d in Enum.GetValues<Method>()
        let code = Method(s, d)
        where code is not null
        select (code.Value, Words.Pair(s, d)!);

    public static IEnumerable<(int Code, string Text)> Reasons() =>
        from r in Enum.GetValues<Reason>()
        where r != Results.Reason.None
        select ((int)r, r.Name()!);
}
