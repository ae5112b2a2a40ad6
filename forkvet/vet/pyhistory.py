"""Facts about Python's history: release dates, removed modules and APIs, Python 2 modules."""

from __future__ import annotations

import sys
from datetime import date

# First release of each minor version (python.org).
RELEASES: dict[tuple[int, int], date] = {
    (2, 7): date(2010, 7, 3),
    (3, 3): date(2012, 9, 29),
    (3, 4): date(2014, 3, 16),
    (3, 5): date(2015, 9, 13),
    (3, 6): date(2016, 12, 23),
    (3, 7): date(2018, 6, 27),
    (3, 8): date(2019, 10, 14),
    (3, 9): date(2020, 10, 5),
    (3, 10): date(2021, 10, 4),
    (3, 11): date(2022, 10, 24),
    (3, 12): date(2023, 10, 2),
    (3, 13): date(2024, 10, 7),
    (3, 14): date(2025, 10, 7),
}
# Frameworks ship wheels for a new Python months after its release.
ADOPTION_LAG_DAYS = 240
# The newest Python we recommend building environments with today.
NEWEST_RECOMMENDED = (3, 12)
OLDEST_RECOMMENDED = (3, 6)

# Standard-library modules removed in a Python version (the code then needs an older one).
REMOVED_MODULES: dict[str, tuple[int, int]] = {
    "imp": (3, 12),
    "distutils": (3, 12),
    "asynchat": (3, 12),
    "asyncore": (3, 12),
    "smtpd": (3, 12),
    "aifc": (3, 13),
    "audioop": (3, 13),
    "cgi": (3, 13),
    "cgitb": (3, 13),
    "chunk": (3, 13),
    "crypt": (3, 13),
    "imghdr": (3, 13),
    "mailcap": (3, 13),
    "msilib": (3, 13),
    "nis": (3, 13),
    "nntplib": (3, 13),
    "ossaudiodev": (3, 13),
    "pipes": (3, 13),
    "sndhdr": (3, 13),
    "spwd": (3, 13),
    "sunau": (3, 13),
    "telnetlib": (3, 13),
    "uu": (3, 13),
    "xdrlib": (3, 13),
    "lib2to3": (3, 13),
    "binhex": (3, 11),
    "formatter": (3, 10),
    "parser": (3, 10),
    "symbol": (3, 10),
    "macpath": (3, 8),
    "dummy_threading": (3, 9),
    "_dummy_thread": (3, 9),
}
# Attributes removed in a version: "module.attr" -> version where it is gone.
REMOVED_APIS: dict[str, tuple[int, int]] = {
    "collections.Mapping": (3, 10),
    "collections.MutableMapping": (3, 10),
    "collections.Sequence": (3, 10),
    "collections.MutableSequence": (3, 10),
    "collections.Iterable": (3, 10),
    "collections.Iterator": (3, 10),
    "collections.Callable": (3, 10),
    "collections.Set": (3, 10),
    "collections.MutableSet": (3, 10),
    "collections.Hashable": (3, 10),
    "collections.Sized": (3, 10),
    "collections.Container": (3, 10),
    "collections.OrderedDict.__dict__": (3, 99),
    "time.clock": (3, 8),
    "platform.linux_distribution": (3, 8),
    "platform.dist": (3, 8),
    "os.errno": (3, 7),
    "inspect.getargspec": (3, 11),
    "inspect.formatargspec": (3, 11),
    "fractions.gcd": (3, 9),
    "base64.encodestring": (3, 9),
    "base64.decodestring": (3, 9),
    "sys.setcheckinterval": (3, 9),
    "sys.getcheckinterval": (3, 9),
    "xml.etree.cElementTree": (3, 9),
    "asyncio.async": (3, 7),
    "asyncio.coroutine": (3, 11),
    "unittest.makeSuite": (3, 13),
    "unittest.findTestCases": (3, 13),
    "ssl.wrap_socket": (3, 12),
    "ssl.match_hostname": (3, 12),
    "configparser.SafeConfigParser": (3, 12),
    "locale.resetlocale": (3, 13),
    "gettext.lgettext": (3, 11),
    "threading.Thread.isAlive": (3, 9),
    "array.array.tostring": (3, 9),
    "array.array.fromstring": (3, 9),
    "typing.io": (3, 13),
    "typing.re": (3, 13),
    "pkgutil.ImpImporter": (3, 12),
}
# Python 2 names of modules renamed or removed in Python 3.
PY2_ONLY_MODULES = frozenset(
    {
        "urllib2",
        "cPickle",
        "Queue",
        "ConfigParser",
        "StringIO",
        "cStringIO",
        "__builtin__",
        "HTMLParser",
        "httplib",
        "thread",
        "commands",
        "sets",
        "md5",
        "sha",
        "exceptions",
        "urlparse",
        "SocketServer",
        "Tkinter",
        "tkMessageBox",
        "tkFileDialog",
        "copy_reg",
        "cookielib",
        "Cookie",
        "xmlrpclib",
        "dummy_thread",
        "anydbm",
        "dbhash",
        "whichdb",
        "new",
        "popen2",
        "repr",
        "robotparser",
        "SimpleHTTPServer",
        "BaseHTTPServer",
        "CGIHTTPServer",
        "UserDict",
        "UserList",
        "UserString",
        "future_builtins",
        "htmlentitydefs",
        "mimetools",
        "rfc822",
        "mimify",
        "MimeWriter",
        "urllib2_file",
        "cProfile_py2",
        "DocXMLRPCServer",
        "SimpleXMLRPCServer",
        "ttk",
        "Dialog",
        "FileDialog",
        "ScrolledText",
        "Tix",
        "tkColorChooser",
        "tkCommonDialog",
        "tkFont",
        "tkSimpleDialog",
        "dircache",
        "statvfs",
        "fpformat",
        "mutex",
        "imputil",
        "compiler",
        "hotshot",
        "user",
        "cPickle_py2",
        "gdbm",
        "dbm_py2",
        "dl",
        "sgmllib",
        "htmllib",
        "string_py2",
        "md5_py2",
    }
)
PY2_ONLY_BUILTINS = frozenset(
    {
        "xrange",
        "unicode",
        "basestring",
        "raw_input",
        "unichr",
        "execfile",
        "long",
        "reduce",
        "cmp",
        "reload",
        "buffer",
        "apply",
        "intern",
        "coerce",
        "file",
    }
)
PY2_ONLY_METHODS = frozenset(
    {"iteritems", "itervalues", "iterkeys", "has_key", "viewitems", "viewkeys", "viewvalues"}
)

STDLIB3 = frozenset(sys.stdlib_module_names) | frozenset(REMOVED_MODULES)


def fmt(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


def newest_at(when: date) -> tuple[int, int]:
    """The newest Python 3 minor that frameworks supported at a date."""
    best = OLDEST_RECOMMENDED
    for version, released in RELEASES.items():
        if version[0] == 3 and (when - released).days >= ADOPTION_LAG_DAYS and version > best:
            best = version
    return min(best, NEWEST_RECOMMENDED)
