namespace Attribution.Analyzer.Results;

/// <summary>
/// The small integers that stand for a packet's method and reason in `packet_rows`; the `methods` and
/// `reasons` tables hold their text, and the `packets` view shows the text.
/// </summary>
internal static class PacketCodes
{
    private static readonly int MethodCount = Enum.GetValues<Method>().Length;

    public static int? Method(Method source, Method destination) =>
        source == Results.Method.None && destination == Results.Method.None ? null : (int)source * MethodCount + (int)destination;

    public static int? Reason(Reason reason) => reason == Results.Reason.None ? null : (int)reason;

    /// <summary>
    /// Each end's own reason (`packet_rows.end_reasons_code`, the `packets` view's src_reason and dst_reason): said for an
    /// unattributed end even where the other end is attributed, when the packet's own reason is none. Both ends'
    /// `reasons.code`s in one integer, the source's in the high byte (a reason is a byte), as the view unpacks them: no
    /// table of their pairs (its page would count in every database, the empty one too).
    /// </summary>
    public static int? EndReasons(Reason source, Reason destination) =>
        source == Results.Reason.None && destination == Results.Reason.None ? null : (int)source << 8 | (int)destination;

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
