// A real PowerShell parser available offline: tree-sitter-powershell's grammar (WebAssembly),
// run by web-tree-sitter. Returns the syntax errors of a script (empty when it parses).
import * as path from "path";
import { Language, Node, Parser } from "web-tree-sitter";

let parser: Promise<Parser> | undefined;

function load(): Promise<Parser> {
    parser ??= (async () => {
        await Parser.init();
        const grammar = path.join(path.dirname(require.resolve("tree-sitter-powershell/package.json")), "tree-sitter-powershell.wasm");
        const p = new Parser();
        p.setLanguage(await Language.load(grammar));
        return p;
    })();
    return parser;
}

export async function powershellErrors(script: string): Promise<string[]> {
    const tree = (await load()).parse(script);
    if (!tree) {
        return ["the parser returned no tree"];
    }
    const errors: string[] = [];
    const walk = (n: Node) => {
        if (n.type === "ERROR" || n.isMissing) {
            errors.push(`${n.isMissing ? "missing" : "error"} at line ${n.startPosition.row + 1}:${n.startPosition.column}: ${n.text.slice(0, 60)}`);
        }
        for (const c of n.children) {
            if (c) {
                walk(c);
            }
        }
    };
    walk(tree.rootNode);
    return errors;
}
