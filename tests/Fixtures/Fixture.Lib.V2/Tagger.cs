namespace Fixture.Lib;

public static class Tagger
{
    public static string Tag(string text, int repeat) => "v2:" + string.Concat(Enumerable.Repeat(text, repeat));
}
