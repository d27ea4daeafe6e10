using Attribution.Analyzer.Annotation;

namespace Attribution.Tests.Annotation;

public class ExtractByNameTests
{
    [Theory]
    [InlineData("example.com", "example.com", true)]
    [InlineData("example.com", "cdn.example.com", true)]
    [InlineData("example.com", "A.B.Example.COM.", true)]
    [InlineData("example.com.", "cdn.example.com", true)]
    [InlineData("example.com", "badexample.com", false)]
    [InlineData("example.com", "example.com.evil", false)]
    [InlineData("cdn.example.com", "example.com", false)]
    [InlineData("example.com", null, false)]
    public void A_name_takes_itself_and_the_names_under_it(string asked, string? remote, bool taken)
    {
        Assert.Equal(taken, new ExtractCriteria(Name: asked).NameMatches(remote));
    }
}
